// Exact int8 convolution operator: every SFC algorithm of the paper, on the
// native, portable and AVX2 SIMD targets, equals direct int8 convolution bit
// for bit (see conv_int8_tester.hpp for the sweep); Cin up to 2048 at the
// extremes; validation of the int32 output range. uint8 input and
// requantized outputs: test_conv2d_int8_io.cpp.

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

// The portable target in an optimized native build (the portable pass of
// scripts/test.sh runs SweepNative on it for every algorithm); two
// algorithms, 3x3 and 7x7.
#if defined(SFC_SIMD_HAS_AVX512)
TEST(ConvInt8Targets, Portable) {
  for (const auto path : {sfc::WeightPath::automatic, sfc::WeightPath::on_the_fly}) {
    sfc::testing::sweep_int8<sfc::SFC<6, 7, 3>, sfc::simd::Portable>(/*quick=*/true, path);
    sfc::testing::sweep_int8<sfc::SFC<6, 4, 7>, sfc::simd::Portable>(/*quick=*/true, path);
  }
}
#endif
// The AVX2 target (the native one of an AVX2-only build), here from an
// AVX-512 build.
#if defined(SFC_SIMD_HAS_AVX512) && defined(SFC_SIMD_HAS_AVX2)
TEST(ConvInt8Targets, Avx2) {
  for (const auto path : {sfc::WeightPath::automatic, sfc::WeightPath::on_the_fly}) {
    sfc::testing::sweep_int8<sfc::SFC<6, 7, 3>, sfc::simd::Avx2>(/*quick=*/true, path);
    sfc::testing::sweep_int8<sfc::SFC<6, 4, 7>, sfc::simd::Avx2>(/*quick=*/true, path);
  }
}
#endif

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

}  // namespace
