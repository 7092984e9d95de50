// Exact 8-bit convolution operator on the native target: every SFC
// algorithm of the paper equals direct int8 convolution bit for bit (see
// conv_int8_tester.hpp for the sweeps), with int8 input and uint8 input
// with a zero point, int32 and requantized int8 / uint8 outputs; Cin up to
// 2048 at the extremes; validation of the int32 output range, zero points,
// scales and the uint8 output range. The portable and AVX2 targets and the
// rounding of sfc::Requantization: test_conv2d_int8_targets.cpp (a file of
// its own, so that it compiles in parallel with this one; this file holds
// every native operator, so that each is compiled once).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "conv_int8_tester.hpp"
#include "sfc/transforms/sfc.hpp"

namespace {

using sfc::testing::ConvInt8Tester;
using sfc::testing::Int8Fill;

template <class A>
class ConvInt8 : public ::testing::Test {};
using Algorithms = ::testing::Types<sfc::SFC<4, 4, 3>, sfc::SFC<6, 6, 3>, sfc::SFC<6, 7, 3>,
                                    sfc::SFC<6, 6, 5>, sfc::SFC<6, 4, 7>>;
TYPED_TEST_SUITE(ConvInt8, Algorithms);

TYPED_TEST(ConvInt8, SweepNative) { sfc::testing::sweep_int8<TypeParam>(); }
TYPED_TEST(ConvInt8, SweepNativeWeightsOnTheFly) {
  sfc::testing::sweep_int8<TypeParam>(/*quick=*/false, sfc::WeightPath::on_the_fly);
}

// uint8 input and requantized outputs: every paper algorithm in native
// builds; in the portable sanitizer build (scripts/test.sh pass 2), where
// compiling these pipelines costs most, a 3x3 and the 7x7 one (the stages
// tested here are shared by all).
template <class A>
class ConvInt8IO : public ::testing::Test {};
#if defined(SFC_SIMD_HAS_AVX2) || defined(SFC_SIMD_HAS_AVX512)
using IOAlgorithms = Algorithms;
#else
using IOAlgorithms = ::testing::Types<sfc::SFC<6, 7, 3>, sfc::SFC<6, 4, 7>>;
#endif
TYPED_TEST_SUITE(ConvInt8IO, IOAlgorithms);

TYPED_TEST(ConvInt8IO, InputTypesAndRequantization) {
  sfc::testing::sweep_int8_input_output<TypeParam>();
}

// The channel chunk comes from the growth bounds (DESIGN.md 1.4).
TEST(ConvInt8Bounds, ChannelsPerInt32Sum) {
  EXPECT_EQ((sfc::Conv2d<std::int8_t, sfc::SFC<6, 7, 3>>::channels_per_int32_sum), 404);
  EXPECT_EQ((sfc::Conv2d<std::int8_t, sfc::SFC<6, 6, 5>>::channels_per_int32_sum), 145);
  EXPECT_EQ((sfc::Conv2d<std::int8_t, sfc::SFC<6, 4, 7>>::channels_per_int32_sum), 74);
}

// Products and the output transform run in int32, modulo 2^32 (see
// conv2d_int8.hpp), over groups of input channels small enough that
// 4 * |group output| < 2^31 for every input (SFC-6's scale is 108 = 4 * 27):
// int8 input allows 3640 channels of a 3x3 kernel
// (4 * 3640 * 9 * 2^14 < 2^31 <= 4 * 3641 * 9 * 2^14), uint8 (magnitude
// 255 * 128) 1827 (1826 in whole pairs), a 5x5 kernel 1310, a 7x7 one 668.
// Up to max_int32_groups groups (two on AVX2 and portable, one on AVX-512);
// wider layers use int64.
template <class Target>
void check_int32_product_channels() {
  using Conv = sfc::Conv2d<std::int8_t, sfc::SFC<6, 7, 3>, Target>;
  using ConvU8 = sfc::Conv2d<std::uint8_t, sfc::SFC<6, 7, 3>, Target>;
  EXPECT_EQ(Conv::int32_product_channels, 3640);
  EXPECT_EQ(Conv::int32_group_channels, 3640);
  EXPECT_EQ(ConvU8::int32_product_channels, 1827);
  EXPECT_EQ(ConvU8::int32_group_channels, 1826);
  EXPECT_EQ((sfc::Conv2d<std::int8_t, sfc::SFC<6, 6, 5>, Target>::int32_product_channels), 1310);
  EXPECT_EQ((sfc::Conv2d<std::int8_t, sfc::SFC<6, 4, 7>, Target>::int32_product_channels), 668);
  struct Case {
    std::int64_t cin, groups;
  };
  for (const Case c :
       {Case{1, 1}, Case{3640, 1}, Case{3641, 2}, Case{7280, 2}, Case{7281, 3}, Case{10921, 4}}) {
    const auto shape = sfc::Conv2dShape::square(1, c.cin, 2, 7, 3, 1);
    const std::vector<std::int8_t> w(static_cast<std::size_t>(shape.weight_elements()), 1);
    const Conv conv(shape, w);
    EXPECT_EQ(conv.int32_groups(), c.groups) << c.cin;
    EXPECT_EQ(conv.product_bits(), c.groups <= Conv::max_int32_groups ? 32 : 64) << c.cin;
  }
}

TEST(ConvInt8Bounds, Int32ProductChannels) {
  check_int32_product_channels<sfc::simd::Portable>();
  check_int32_product_channels<sfc::simd::Native>();
}

// 2048 input channels of worst-case values: five int32 chunks, widened.
TEST(ConvInt8Bounds, Cin2048Extremes) {
  for (const Int8Fill f : {Int8Fill::min, Int8Fill::max, Int8Fill::alternating})
    ConvInt8Tester().channels(2048, 2).size(7, 7).pad(1).bias(false).fill(f)
        .test<sfc::SFC<6, 7, 3>>();
}

TEST(ConvInt8Errors, OutputRangeAndBuffers) {
  using Conv = sfc::Conv2d<std::int8_t, sfc::SFC<6, 7, 3>>;
  // 3x3: |y| <= Cin * 9 * 2^14 must fit int32: at most 14563 input channels.
  const auto too_wide = sfc::Conv2dShape::square(1, 14564, 1, 3, 3, 1);
  std::vector<std::int8_t> w(static_cast<std::size_t>(too_wide.weight_elements()));
  try {
    Conv conv(too_wide, w);
    ADD_FAILURE() << "no error for 14564 input channels";
  } catch (const sfc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("can overflow the int32 output"), std::string::npos) << e.what();
  }
  const auto ok = sfc::Conv2dShape::square(1, 14563, 1, 3, 3, 1);
  EXPECT_NO_THROW(Conv(ok, std::span<const std::int8_t>(w).first(static_cast<std::size_t>(ok.weight_elements()))));
  // A large bias lowers the limit: (2^31 - 1 - 2e9) / (9 * 2^14) = 1000 channels.
  const std::vector<std::int32_t> big_bias{2000000000};
  EXPECT_NO_THROW(Conv(sfc::Conv2dShape::square(1, 1000, 1, 3, 3, 1),
                       std::span<const std::int8_t>(w).first(9000), big_bias));
  EXPECT_THROW(Conv(sfc::Conv2dShape::square(1, 1001, 1, 3, 3, 1),
                    std::span<const std::int8_t>(w).first(9009), big_bias),
               sfc::Error);
  const auto s = sfc::Conv2dShape::square(1, 2, 2, 5, 3, 1);
  const Conv conv(s, std::span<const std::int8_t>(w).first(36));
  std::vector<std::int8_t> in(static_cast<std::size_t>(s.input_elements()));
  std::vector<std::int32_t> out(static_cast<std::size_t>(s.output_elements()));
  EXPECT_THROW(conv.run(std::span<const std::int8_t>(in).first(in.size() - 1), out), sfc::Error);
  EXPECT_THROW(conv.run(in, std::span<std::int32_t>(out).first(out.size() - 1)), sfc::Error);
  std::vector<std::byte> ws(conv.workspace_size());
  EXPECT_NO_THROW(conv.run(in, out, ws));
  EXPECT_THROW(conv.run(in, out, std::span<std::byte>(ws).first(ws.size() - 1)), sfc::Error);
  EXPECT_THROW(Conv(sfc::Conv2dShape::square(1, 2, 2, 5, 5, 2), std::span<const std::int8_t>(w).first(100)),
               sfc::Error);
  // Weights on the fly need int32 products of one channel group.
  EXPECT_TRUE(Conv(s, std::span<const std::int8_t>(w).first(36), {},
                   {.weight_path = sfc::WeightPath::on_the_fly})
                  .weights_on_the_fly());
  const auto two_groups = sfc::Conv2dShape::square(1, Conv::int32_group_channels + 1, 1, 3, 3, 1);
  const auto two_groups_w =
      std::span<const std::int8_t>(w).first(static_cast<std::size_t>(two_groups.weight_elements()));
  EXPECT_FALSE(Conv(two_groups, two_groups_w).weights_on_the_fly());
  try {
    Conv conv_otf(two_groups, two_groups_w, {}, {.weight_path = sfc::WeightPath::on_the_fly});
    ADD_FAILURE() << "no error for weight_path = on_the_fly with two int32 groups";
  } catch (const sfc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs the int32 product path of one channel group"),
              std::string::npos)
        << e.what();
  }
}

// Malformed plans the int8 operators share with the fp32 one: options out
// of their enumerations, tiled buffers that overflow int64, a moved-from plan.
TEST(ConvInt8Errors, OptionsGeometryAndMovedFrom) {
  using Conv = sfc::Conv2d<std::uint8_t, sfc::SFC<6, 7, 3>>;
  const auto expect_error = [](auto&& f, const std::string& fragment) {
    try {
      f();
      ADD_FAILURE() << "no sfc::Error; expected one mentioning \"" << fragment << "\"";
    } catch (const sfc::Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  const auto s = sfc::Conv2dShape::square(1, 2, 2, 5, 3, 1);
  const std::vector<std::int8_t> w(static_cast<std::size_t>(s.weight_elements()), 3);
  expect_error([&] { Conv conv(s, w, {}, 128, {.input_layout = static_cast<sfc::Layout>(2)}); },
               "input_layout is not a Layout (value 2)");
  expect_error([&] { Conv conv(s, w, {}, 128, {.weight_path = static_cast<sfc::WeightPath>(3)}); },
               "weight_path is not a WeightPath (value 3)");
  const sfc::Conv2dShape huge{.width = std::numeric_limits<std::int64_t>::max() - 2,
                              .kernel_h = 3,
                              .kernel_w = 3,
                              .pad_top = 1,
                              .pad_bottom = 1};
  ASSERT_TRUE(huge.validate().ok());
  expect_error([&] { Conv conv(huge, std::span<const std::int8_t>(w).first(9), {}, 128); },
               "the tiled buffers of Conv2dShape{");
  Conv a(s, w, {}, 128);
  const Conv b = std::move(a);
  const std::vector<std::uint8_t> in(static_cast<std::size_t>(s.input_elements()), 200);
  std::vector<std::int32_t> out(static_cast<std::size_t>(s.output_elements()));
  EXPECT_NO_THROW(b.run(in, out));
  expect_error([&] { a.run(in, out); },
               "run() on a plan that was moved from");  // NOLINT(bugprone-use-after-move)
}

// WeightPath::automatic forms the exact weights on the fly where the
// transformed int16 weights exceed 16 MiB and a block has few tiles
// (detail::weights_on_the_fly_pays with the int32 lanes): batch-1
// C=256@14 (4 tiles, 17.3 MB) with 16 lanes, not with 8; C=512@7 (1 tile)
// with both; never at batch 8 (32 tiles per block) or with small weights.
TEST(ConvInt8WeightPath, AutomaticChoice) {
  const auto choice = [](auto target, std::int64_t batch, std::int64_t c, std::int64_t hw) {
    using Conv = sfc::Conv2d<std::int8_t, sfc::SFC<6, 7, 3>, decltype(target)>;
    const auto shape = sfc::Conv2dShape::square(batch, c, c, hw, 3, 1);
    const std::vector<std::int8_t> w(static_cast<std::size_t>(shape.weight_elements()), 1);
    return Conv(shape, w).weights_on_the_fly();
  };
  EXPECT_TRUE(choice(sfc::simd::Portable{}, 1, 512, 7));
  EXPECT_FALSE(choice(sfc::simd::Portable{}, 1, 256, 14));
  EXPECT_FALSE(choice(sfc::simd::Portable{}, 1, 128, 7));
  EXPECT_FALSE(choice(sfc::simd::Portable{}, 8, 512, 7));
  using Native = sfc::simd::Native;
  EXPECT_EQ(choice(Native{}, 1, 256, 14), Native::i32_lanes >= 16);
  EXPECT_TRUE(choice(Native{}, 1, 512, 7));
  EXPECT_FALSE(choice(Native{}, 8, 256, 14));
}

// On the fly, two threads split a panel's tiles inside a group of the
// kernel's data layout (6 tiles, groups of 4, split at tile 3): each
// computes the whole group and stores its own tiles.
TEST(ConvInt8WeightPath, OnTheFlyBlocksSplitInsideATileGroup) {
  ConvInt8Tester()
      .channels(131, 16)
      .size(14, 21)
      .pad(1)
      .threads(2)
      .weight_path(sfc::WeightPath::on_the_fly)
      .test<sfc::SFC<6, 7, 3>>();
}

}  // namespace

namespace {

// The panel loop's fused orders (layers/tiling.hpp), bit for bit and on 2
// threads: 32 tiles x 132 slots x 64 channels of int32 products (1.1 MB)
// fuse, 1.1 MB of int16 weights split the tiles between threads; at 128
// channels the 4.3 MB of weights split the panels.
TEST(ConvInt8PanelLoop, FusedWithTilesOrPanelsSplit) {
  for (const std::int64_t c : {64, 128}) {
    sfc::testing::ConvInt8Tester().batch(2).channels(c, c).size(28, 28).pad(1).threads(2)
        .template test<sfc::SFC<6, 7, 3>>();
  }
}

// NHWC output written in place (ConvCase::in_place_nhwc_output), bit for bit.
TEST(ConvInt8InPlaceOutput, NhwcWholeTilesAcrossImageGroups) {
  for (const int threads : {1, 2}) {
    sfc::testing::ConvInt8Tester()
        .in_place_nhwc_output()
        .threads(threads)
        .template test<sfc::SFC<6, 7, 3>>();
  }
}

TEST(Requantization, Errors) {
  EXPECT_THROW(sfc::Requantization(std::vector<float>{}), sfc::Error);
  for (const float bad : {0.0f, -1.0f, NAN, INFINITY})
    EXPECT_THROW(sfc::Requantization(std::vector<float>{1.0f, bad}), sfc::Error);
  const std::vector<float> two{1.0f, 2.0f};
  EXPECT_THROW(sfc::Requantization(two).check<std::int8_t>(3, "test"), sfc::Error);
  EXPECT_NO_THROW(sfc::Requantization(two).check<std::int8_t>(2, "test"));
  EXPECT_THROW(sfc::Requantization(two, 128).check<std::int8_t>(2, "test"), sfc::Error);
  EXPECT_THROW(sfc::Requantization(two, -1).check<std::uint8_t>(2, "test"), sfc::Error);
  EXPECT_NO_THROW(sfc::Requantization(two, 255).check<std::uint8_t>(2, "test"));

  // Through the operator: wrong scale count, zero point out of range.
  const auto s = sfc::Conv2dShape::square(1, 2, 3, 6, 3, 1);
  const std::vector<std::int8_t> w(static_cast<std::size_t>(s.weight_elements()), 1);
  const sfc::Conv2d<std::int8_t, sfc::SFC<6, 6, 3>> conv(s, w);
  std::vector<std::int8_t> in(static_cast<std::size_t>(s.input_elements()));
  std::vector<std::int8_t> out(static_cast<std::size_t>(s.output_elements()));
  std::vector<std::uint8_t> out_u8(out.size());
  EXPECT_THROW(conv.run(in, std::span<std::int8_t>(out), sfc::Requantization(two)), sfc::Error);
  EXPECT_THROW(conv.run(in, std::span<std::uint8_t>(out_u8), sfc::Requantization(two, -5)),
               sfc::Error);
  const std::vector<float> three{1.0f, 1.0f, 1.0f};
  EXPECT_NO_THROW(conv.run(in, std::span<std::int8_t>(out), sfc::Requantization(three)));
  EXPECT_THROW(
      conv.run(in, std::span<std::int8_t>(out).first(out.size() - 1), sfc::Requantization(three)),
      sfc::Error);
}

TEST(ConvUint8Errors, ZeroPointAndRange) {
  using Conv = sfc::Conv2d<std::uint8_t, sfc::SFC<6, 7, 3>>;
  const auto s = sfc::Conv2dShape::square(1, 2, 2, 5, 3, 1);
  const std::vector<std::int8_t> w(static_cast<std::size_t>(s.weight_elements()));
  for (const std::int32_t zp : {-1, 256}) EXPECT_THROW(Conv(s, w, {}, zp), sfc::Error);
  EXPECT_NO_THROW(Conv(s, w, {}, 255));
  // 3x3, |x - zp| <= 255: |y| <= Cin * 9 * 255 * 128 fits int32 up to 7310 channels.
  const auto wide = sfc::Conv2dShape::square(1, 7311, 1, 3, 3, 1);
  const std::vector<std::int8_t> ww(static_cast<std::size_t>(wide.weight_elements()));
  EXPECT_THROW(Conv(wide, ww, {}, 0), sfc::Error);
  const auto ok = sfc::Conv2dShape::square(1, 7310, 1, 3, 3, 1);
  EXPECT_NO_THROW(Conv(
      ok, std::span<const std::int8_t>(ww).first(static_cast<std::size_t>(ok.weight_elements())),
      {}, 0));
  EXPECT_EQ(Conv::channels_per_int32_sum, 203);  // 404 for int8 input
}

}  // namespace
