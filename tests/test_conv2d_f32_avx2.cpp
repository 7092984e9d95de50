// fp32 convolution operator on the AVX2 target (when this build enables it
// and it is not the native one; a CPU without it skips at run time), and the
// nested 2D forms on the native target: the shorter sweeps. A file of its
// own so that it compiles in parallel with test_conv2d_f32_targets.cpp.

#include <gtest/gtest.h>

#include "conv_f32_tester.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/transforms/sfc.hpp"

namespace {

using sfc::SFC;

#if defined(SFC_SIMD_HAS_AVX2)
TEST(ConvF32Targets, Avx2) { sfc::testing::sweep_target_f32<sfc::simd::Avx2>(); }
#endif

TEST(ConvF32Targets, NestedForms) {
  sfc::testing::sweep_f32<SFC<4, 4, 3>::nested_2d>(true);
  sfc::testing::sweep_f32<SFC<6, 7, 3>::nested_2d>(true);
  sfc::testing::sweep_f32<SFC<6, 6, 5>::nested_2d>(true);
}

}  // namespace
