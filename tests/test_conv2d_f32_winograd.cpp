// fp32 convolution operator, Winograd F(2x2,3x3) and F(4x4,3x3), on the native SIMD
// target: the full ConvF32Tester sweep against the double-precision direct
// reference (see conv_f32_tester.hpp for the error measure and tolerances).

#include <gtest/gtest.h>

#include "conv_f32_tester.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

template <class A>
class ConvF32 : public ::testing::Test {};
using Algorithms = ::testing::Types<sfc::Winograd<2, 3>,sfc::Winograd<4, 3>>;
TYPED_TEST_SUITE(ConvF32, Algorithms);

TYPED_TEST(ConvF32, SweepNative) { sfc::testing::sweep_f32<TypeParam>(); }

// The same operator with every slot's weight formed from the taps inside the
// element-wise kernel (WeightPath::on_the_fly), on the shorter sweep.
TYPED_TEST(ConvF32, SweepNativeWeightsOnTheFly) {
  sfc::testing::sweep_f32<TypeParam>(/*quick=*/true, sfc::WeightPath::on_the_fly);
}

}  // namespace
