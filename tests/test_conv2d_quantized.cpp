// Frequency-wise quantized operator (QuantizedConv2d): every paper algorithm
// and Winograd F(2x2,3x3), F(4x4,3x3) on the native target (plus the
// portable and AVX2 targets, quick), against the quantized reference and
// the float error bound (see conv_quant_tester.hpp for both).

#include <gtest/gtest.h>

#include "conv_quant_tester.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

template <class A>
class ConvQuantized : public ::testing::Test {};
// Every algorithm in native builds; in the portable sanitizer build
// (scripts/test.sh pass 2) one per kernel size and Winograd F(4x4, 3x3),
// which keeps CI within its time budget.
#if defined(SFC_SIMD_HAS_AVX2) || defined(SFC_SIMD_HAS_AVX512)
using Algorithms = ::testing::Types<sfc::SFC<4, 4, 3>, sfc::SFC<6, 6, 3>, sfc::SFC<6, 7, 3>,
                                    sfc::SFC<6, 6, 5>, sfc::SFC<6, 4, 7>, sfc::Winograd<2, 3>,
                                    sfc::Winograd<4, 3>>;
#else
using Algorithms = ::testing::Types<sfc::SFC<6, 7, 3>, sfc::SFC<6, 6, 5>, sfc::SFC<6, 4, 7>,
                                    sfc::Winograd<4, 3>>;
#endif
TYPED_TEST_SUITE(ConvQuantized, Algorithms);

TYPED_TEST(ConvQuantized, SweepNative) { sfc::testing::sweep_quantized<TypeParam>(); }

// In a build whose native target is the portable one, SweepNative already
// runs these instantiations in full; SFC_SKIP_PORTABLE_TARGET_TESTS leaves
// them out of a native build when such a build runs too (scripts/test.sh).
#if (defined(SFC_SIMD_HAS_AVX2) || defined(SFC_SIMD_HAS_AVX512)) && \
    !defined(SFC_TEST_SKIP_PORTABLE_TARGET)
TEST(ConvQuantizedTargets, Portable) {
  sfc::testing::sweep_quantized<sfc::SFC<6, 7, 3>, sfc::simd::Portable>(/*quick=*/true);
  sfc::testing::sweep_quantized<sfc::Winograd<4, 3>, sfc::simd::Portable>(/*quick=*/true);
}
#endif
#if defined(SFC_SIMD_HAS_AVX512) && defined(SFC_SIMD_HAS_AVX2)
TEST(ConvQuantizedTargets, Avx2) {
  sfc::testing::sweep_quantized<sfc::SFC<6, 7, 3>, sfc::simd::Avx2>(/*quick=*/true);
  sfc::testing::sweep_quantized<sfc::SFC<6, 4, 7>, sfc::simd::Avx2>(/*quick=*/true);
}
#endif

}  // namespace

namespace {

// The panel loop's fused orders (layers/tiling.hpp) on 2 threads: 32 tiles
// of float products at 64 channels (1.1 MB) fuse with 0.5 MB of int8
// weights (tiles split); 12 tiles at 192 channels (1.2 MB of products,
// 4.9 MB of weights) fuse with the panels split.
TEST(ConvQuantizedPanelLoop, FusedWithTilesOrPanelsSplit) {
  sfc::testing::ConvQuantTester().batch(2).channels(64, 64).size(28, 28).pad(1).threads(2)
      .template test<sfc::SFC<6, 7, 3>>();
  sfc::testing::ConvQuantTester().batch(3).channels(192, 192).size(14, 14).pad(1).threads(2)
      .template test<sfc::SFC<6, 7, 3>>();
}

// NHWC output written in place (ConvCase::in_place_nhwc_output), float and
// int8 output.
TEST(ConvQuantizedInPlaceOutput, NhwcWholeTilesAcrossImageGroups) {
  for (const int threads : {1, 2}) {
    for (const bool int8_out : {false, true}) {
      sfc::testing::ConvQuantTester()
          .in_place_nhwc_output()
          .threads(threads)
          .int8_output(int8_out)
          .template test<sfc::SFC<6, 7, 3>>();
    }
  }
}

}  // namespace
