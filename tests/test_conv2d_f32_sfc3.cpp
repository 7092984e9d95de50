// fp32 convolution operator, SFC-4(4x4,3x3), SFC-6(6x6,3x3) and SFC-6(7x7,3x3), on the native SIMD
// target: the full ConvF32Tester sweep against the double-precision direct
// reference (see conv_f32_tester.hpp for the error measure and tolerances).

#include <gtest/gtest.h>

#include "conv_f32_tester.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

template <class A>
class ConvF32 : public ::testing::Test {};
using Algorithms = ::testing::Types<sfc::SFC<4, 4, 3>,sfc::SFC<6, 6, 3>,sfc::SFC<6, 7, 3>>;
TYPED_TEST_SUITE(ConvF32, Algorithms);

TYPED_TEST(ConvF32, SweepNative) { sfc::testing::sweep_f32<TypeParam>(); }

}  // namespace

namespace {

// Layers large enough for the panel loop's other orders (layers/tiling.hpp):
// a block's products above 1 MiB make the element-wise stage fuse with the
// output transform (weights packed panel-major); transformed weights up to
// 4 MiB make 2 threads split the block's tiles, larger ones its panels.
// 32 tiles of SFC-6(7x7) x 132 slots x 64 channels x 4 bytes = 1.1 MB, with
// 2.2 MB of weights: fused, tiles split; 96 channels (4.9 MB of weights):
// fused, panels split. Each also against 2 threads (bit-identical).
TEST(ConvF32PanelLoop, FusedWithTilesOrPanelsSplit) {
  for (const std::int64_t c : {64, 96}) {
    sfc::testing::ConvF32Tester().batch(2).channels(c, c).size(28, 28).pad(1).threads(2)
        .template test<sfc::SFC<6, 7, 3>>(sfc::testing::f32_tolerance<sfc::SFC<6, 7, 3>>);
  }
}

// NHWC output written in place by the output transforms, image group after
// image group (see ConvCase::in_place_nhwc_output).
TEST(ConvF32InPlaceOutput, NhwcWholeTilesAcrossImageGroups) {
  for (const int threads : {1, 2}) {
    sfc::testing::ConvF32Tester()
        .in_place_nhwc_output()
        .threads(threads)
        .template test<sfc::SFC<6, 7, 3>>(sfc::testing::f32_tolerance<sfc::SFC<6, 7, 3>>);
  }
}

}  // namespace
