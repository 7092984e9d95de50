// fp32 convolution operator, SFC-4(4x4,3x3), SFC-6(6x6,3x3) and SFC-6(7x7,3x3), on the native SIMD
// target: the full ConvF32Tester sweep against the double-precision direct
// reference (see conv_f32_tester.hpp for the error measure and tolerances).

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "conv_f32_tester.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

template <class A>
class ConvF32 : public ::testing::Test {};
using Algorithms = ::testing::Types<sfc::SFC<4, 4, 3>,sfc::SFC<6, 6, 3>,sfc::SFC<6, 7, 3>>;
TYPED_TEST_SUITE(ConvF32, Algorithms);

TYPED_TEST(ConvF32, SweepNative) { sfc::testing::sweep_f32<TypeParam>(); }

// The same operator with every slot's weight formed from the taps inside the
// element-wise kernel (WeightPath::on_the_fly), on the shorter sweep.
TYPED_TEST(ConvF32, SweepNativeWeightsOnTheFly) {
  sfc::testing::sweep_f32<TypeParam>(/*quick=*/true, sfc::WeightPath::on_the_fly);
}

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

namespace {

// WeightPath::automatic forms the weights on the fly where a block has at
// most kernels::kTapsRows tiles, the transformed weights exceed 16 MiB and
// tiles + additions per slot stay within lanes / 2 (8 with AVX-512's 16
// lanes, 4 with 8): SFC-6(7x7) (2.7 additions per slot) at batch-1 C=512@7
// (1 tile) and, with 16 lanes, C=256@14 (4 tiles, 34.6 MB); not batch 8
// nor C=128@28 (16 tiles, 8.6 MB); not Winograd F(4x4) (4.4) at batch-1
// C=512@7 (4 tiles); SFC-6(6x6) there (3.6) with 16 lanes. An explicit
// path overrides it.
TEST(ConvF32WeightPath, AutomaticFormsWeightsOnTheFlyWhereTheyWouldStream) {
  constexpr bool wide = sfc::simd::Native::f32_lanes >= 16;
  using Conv = sfc::Conv2d<float, sfc::SFC<6, 7, 3>>;
  const auto plan = [](std::int64_t batch, std::int64_t c, std::int64_t hw,
                       sfc::WeightPath path = sfc::WeightPath::automatic) {
    const auto s = sfc::Conv2dShape::same(batch, c, c, hw, hw, 3, 3);
    const std::vector<float> w(static_cast<std::size_t>(s.weight_elements()), 0.5f);
    return Conv(s, w, {}, {.weight_path = path}).weights_on_the_fly();
  };
  EXPECT_EQ(plan(1, 256, 14), wide);
  EXPECT_TRUE(plan(1, 512, 7));
  EXPECT_FALSE(plan(8, 256, 14));
  EXPECT_FALSE(plan(1, 128, 28));
  EXPECT_FALSE(plan(1, 256, 14, sfc::WeightPath::transformed));
  EXPECT_TRUE(plan(1, 16, 28, sfc::WeightPath::on_the_fly));
  const auto s = sfc::Conv2dShape::same(1, 512, 512, 7, 7, 3, 3);
  const std::vector<float> w(static_cast<std::size_t>(s.weight_elements()), 0.5f);
  EXPECT_FALSE((sfc::Conv2d<float, sfc::Winograd<4, 3>>(s, w).weights_on_the_fly()));
  EXPECT_EQ((sfc::Conv2d<float, sfc::SFC<6, 6, 3>>(s, w).weights_on_the_fly()), wide);
  // Blocks of 2 and 3 tiles form every weight 2 and 3 times (register
  // blocks of 1 or kernels::kTapsRows tiles): 2 + 2 x 2.7 additions per
  // slot still pays with 16 lanes, 3 + 3 x 2.7 does not.
  const auto wide_plan = [](std::int64_t tiles) {
    const auto s = sfc::Conv2dShape::same(1, 256, 256, 7, 7 * tiles, 3, 3);
    const std::vector<float> w(static_cast<std::size_t>(s.weight_elements()), 0.5f);
    return Conv(s, w).weights_on_the_fly();
  };
  EXPECT_EQ(wide_plan(2), wide);
  EXPECT_FALSE(wide_plan(3));
  EXPECT_EQ(wide_plan(4), wide);
}

// Targets of 8 lanes stream half the bytes per weight vector for the same
// arithmetic: only a layer with one tile per block forms its weights on the
// fly there (SFC-6(7x7) batch-1 C=512@7, not C=256@14 with 4 tiles).
TEST(ConvF32WeightPath, AutomaticChoiceScalesWithTheVectorWidth) {
  using Narrow = sfc::Conv2d<float, sfc::SFC<6, 7, 3>, sfc::simd::Portable>;
  static_assert(sfc::simd::Portable::f32_lanes == 8);
  const auto plan = [](std::int64_t c, std::int64_t hw) {
    const auto s = sfc::Conv2dShape::same(1, c, c, hw, hw, 3, 3);
    const std::vector<float> w(static_cast<std::size_t>(s.weight_elements()), 0.5f);
    return Narrow(s, w).weights_on_the_fly();
  };
  EXPECT_TRUE(plan(512, 7));
  EXPECT_FALSE(plan(256, 14));
}

// A weight-bound layer itself (batch-1 C=256@14, NHWC), through both paths,
// and 2 threads bit-identical to 1.
TEST(ConvF32WeightPath, WeightBoundLayerThroughBothPaths) {
  for (const auto path : {sfc::WeightPath::on_the_fly, sfc::WeightPath::transformed}) {
    sfc::testing::ConvF32Tester()
        .channels(256, 256)
        .size(14, 14)
        .pad(1)
        .layouts(sfc::Layout::NHWC, sfc::Layout::NHWC)
        .weight_path(path)
        .threads(2)
        .template test<sfc::SFC<6, 7, 3>>(sfc::testing::f32_tolerance<sfc::SFC<6, 7, 3>>);
  }
}

// On the fly the transformed data are laid out in groups of
// kernels::kTapsRows tiles: a block of 6 tiles (14x21, SFC-6(7x7)) whose one
// output panel two threads split at tile 3, inside a group (5.5 M
// multiply-adds: enough for two threads); and a caller's
// workspace of exactly workspace_size() floats (the groups, 4 + 1 + 1
// tiles, fill exactly the block's transformed data; ASan checks the bound),
// giving the same bits as the
// internal scratch.
TEST(ConvF32WeightPath, OnTheFlyBlocksSplitInsideATileGroup) {
  sfc::testing::ConvF32Tester()
      .channels(131, 16)
      .size(14, 21)
      .pad(1)
      .weight_path(sfc::WeightPath::on_the_fly)
      .threads(2)
      .template test<sfc::SFC<6, 7, 3>>(sfc::testing::f32_tolerance<sfc::SFC<6, 7, 3>>);

  const auto s = sfc::Conv2dShape::same(1, 131, 16, 14, 21, 3, 3);
  std::vector<float> x(static_cast<std::size_t>(s.input_elements()));
  std::vector<float> w(static_cast<std::size_t>(s.weight_elements()));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) * 0.25f - 1.0f;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) * 0.125f - 0.375f;
  const sfc::Conv2d<float, sfc::SFC<6, 7, 3>> conv(s, w, {},
                                                   {.weight_path = sfc::WeightPath::on_the_fly});
  std::vector<float> scratch(conv.workspace_size());
  std::vector<float> y(static_cast<std::size_t>(s.output_elements())), y_own(y.size());
  for (const int threads : {1, 2}) {
    conv.run(x, y, scratch, {.threads = threads});
    conv.run(x, y_own, {.threads = threads});
    EXPECT_EQ(y, y_own) << threads << " thread(s)";
  }
}

}  // namespace
