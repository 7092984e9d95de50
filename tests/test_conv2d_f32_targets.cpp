// fp32 convolution operator on every compiled SIMD target other than the
// native one (portable, AVX2: whichever this build enables; a target the CPU
// lacks is skipped at run time), and the nested 2D forms: a shorter sweep per
// combination, plus agreement between targets.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "conv_f32_tester.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

using sfc::SFC;
using sfc::Winograd;

template <class Target>
void sweep_all_algorithms() {
  sfc::testing::sweep_f32<SFC<4, 4, 3>, Target>(/*quick=*/true);
  sfc::testing::sweep_f32<SFC<6, 6, 3>, Target>(true);
  sfc::testing::sweep_f32<SFC<6, 7, 3>, Target>(true);
  sfc::testing::sweep_f32<SFC<6, 6, 5>, Target>(true);
  sfc::testing::sweep_f32<SFC<6, 4, 7>, Target>(true);
  sfc::testing::sweep_f32<Winograd<2, 3>, Target>(true);
  sfc::testing::sweep_f32<Winograd<4, 3>, Target>(true);
}

// In a build whose native target is the portable one, the SweepNative tests
// already run this very instantiation in full.
#if defined(SFC_SIMD_HAS_AVX2) || defined(SFC_SIMD_HAS_AVX512)
TEST(ConvF32Targets, Portable) { sweep_all_algorithms<sfc::simd::Portable>(); }
#endif

#if defined(SFC_SIMD_HAS_AVX2)
TEST(ConvF32Targets, Avx2) { sweep_all_algorithms<sfc::simd::Avx2>(); }
#endif

// AVX-512, when compiled, is the native target: the SweepNative tests of
// test_conv2d_f32_sfc3/sfc57/winograd run it in full.

TEST(ConvF32Targets, NestedForms) {
  sfc::testing::sweep_f32<SFC<4, 4, 3>::nested_2d>(true);
  sfc::testing::sweep_f32<SFC<6, 7, 3>::nested_2d>(true);
  sfc::testing::sweep_f32<SFC<6, 6, 5>::nested_2d>(true);
}

// The symbolic and nested forms of one algorithm, and the portable and native
// targets, compute the same convolution: they agree to within float rounding.
TEST(ConvF32Targets, FormsAndTargetsAgree) {
  const auto shape = sfc::Conv2dShape::square(2, 19, 21, 15, 3, 1);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(shape.input_elements()));
  std::vector<float> w(static_cast<std::size_t>(shape.weight_elements()));
  for (float& v : x) v = dist(rng);
  for (float& v : w) v = dist(rng);
  const auto n = static_cast<std::size_t>(shape.output_elements());
  std::vector<float> symbolic(n), nested(n), portable(n);
  sfc::Conv2d<float, SFC<6, 7, 3>>(shape, w).run(x, symbolic);
  sfc::Conv2d<float, SFC<6, 7, 3>::nested_2d>(shape, w).run(x, nested);
  sfc::Conv2d<float, SFC<6, 7, 3>, sfc::simd::Portable>(shape, w).run(x, portable);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(symbolic[i], nested[i], 1e-4) << i;
    ASSERT_NEAR(symbolic[i], portable[i], 1e-4) << i;
  }
}

}  // namespace
