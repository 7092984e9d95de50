// The AVX2 int8 kernels with AVX-VNNI (`vpdpbusd` and `vpdpwssd` on 256-bit
// vectors): this file is compiled with -mavx2 -mfma -mavxvnni
// (tests/CMakeLists.txt), so the Avx2 target takes its AVX-VNNI paths. On a
// CPU without AVX-VNNI the cases skip at run time (Avx2::supports_q8() and
// supports_int8() check the CPU).

#include <gtest/gtest.h>

#include "conv_int8_tester.hpp"
#include "conv_quant_tester.hpp"
#include "sfc/transforms/sfc.hpp"

#if !defined(__AVXVNNI__)
#error "this test must be compiled with AVX-VNNI enabled (-mavxvnni)"
#endif

namespace {

static_assert(sfc::simd::Avx2::q8_data_offset == 128, "the AVX-VNNI path stores unsigned data codes");

TEST(ConvQuantizedAvxVnni, Sweep) {
  sfc::testing::sweep_quantized<sfc::SFC<6, 7, 3>, sfc::simd::Avx2>(/*quick=*/true);
}

TEST(ConvInt8AvxVnni, Sweep) { sfc::testing::sweep_int8<sfc::SFC<6, 7, 3>, sfc::simd::Avx2>(/*quick=*/true); }

}  // namespace
