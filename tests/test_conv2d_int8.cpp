// Exact 8-bit convolution operator: every SFC algorithm of the paper, on the
// native and portable SIMD targets, equals direct convolution bit for bit,
// int8 input and uint8 input with a zero point, int32 and requantized
// int8 / uint8 outputs (see conv_int8_tester.hpp for the sweep); Cin up to
// 2048 at the extremes; exact rounding of the requantization; validation of
// the int32 output range, zero points and scales.

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

// In a build whose native target is the portable one, SweepNative already
// runs this very instantiation in full.
#if defined(SFC_SIMD_HAS_AVX512)
TYPED_TEST(ConvInt8, SweepPortable) {
  sfc::testing::sweep_int8<TypeParam, sfc::simd::Portable>(/*quick=*/true);
}
#endif
// The AVX2 target (the native one of an AVX2-only build), here from an
// AVX-512 build.
#if defined(SFC_SIMD_HAS_AVX512) && defined(SFC_SIMD_HAS_AVX2)
TEST(ConvInt8Targets, Avx2) {
  sfc::testing::sweep_int8<sfc::SFC<6, 7, 3>, sfc::simd::Avx2>(/*quick=*/true);
  sfc::testing::sweep_int8<sfc::SFC<6, 4, 7>, sfc::simd::Avx2>(/*quick=*/true);
}
#endif

// The channel chunk comes from the growth bounds (DESIGN.md 1.4).
TEST(ConvInt8Bounds, ChannelsPerInt32Sum) {
  EXPECT_EQ((sfc::Conv2d<std::int8_t, sfc::SFC<6, 7, 3>>::channels_per_int32_sum), 404);
  EXPECT_EQ((sfc::Conv2d<std::int8_t, sfc::SFC<6, 6, 5>>::channels_per_int32_sum), 145);
  EXPECT_EQ((sfc::Conv2d<std::int8_t, sfc::SFC<6, 4, 7>>::channels_per_int32_sum), 74);
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
}

}  // namespace

namespace {

long double exact_requantized(std::int32_t acc, float scale) {
  return std::nearbyintl(static_cast<long double>(acc) * scale);
}

TEST(Requantization, RoundsHalfToEvenExactly) {
  const auto apply = [](float scale, std::int32_t acc, std::int32_t zp = 0) {
    const std::vector<float> scales{scale};
    return int{sfc::Requantization(scales, zp).apply<std::int8_t>(acc, 0)};
  };
  EXPECT_EQ(apply(0.5f, 1), 0);
  EXPECT_EQ(apply(0.5f, 3), 2);
  EXPECT_EQ(apply(0.5f, 5), 2);
  EXPECT_EQ(apply(0.5f, -1), 0);
  EXPECT_EQ(apply(0.5f, -3), -2);
  EXPECT_EQ(apply(0.25f, 10), 2);
  EXPECT_EQ(apply(0.25f, 14), 4);
  EXPECT_EQ(apply(1.0f / 3, 3), 1);
  EXPECT_EQ(apply(1e-30f, 2147483647), 0);
  EXPECT_EQ(apply(1e30f, 1), 127);
  EXPECT_EQ(apply(1e30f, -1), -128);
  EXPECT_EQ(apply(1e30f, 0, 5), 5);
  EXPECT_EQ(apply(3.0f, 40, -10), 110);
  // Just above a tie: 1 + 2^-23 times 0.5 rounds up.
  EXPECT_EQ(apply(0.5f * (1 + 0x1p-23f), 1), 1);
  // Random values against long double (exact for 31 + 24 bits).
  std::mt19937 rng(99);
  std::uniform_int_distribution<std::int32_t> acc(std::numeric_limits<std::int32_t>::min(),
                                                  std::numeric_limits<std::int32_t>::max());
  std::uniform_real_distribution<double> log_scale(-40, 0);
  for (int i = 0; i < 100000; ++i) {
    const auto scale = static_cast<float>(std::exp2(log_scale(rng)));
    const std::int32_t a = acc(rng) >> (i % 31);
    const std::vector<float> scales{scale};
    const sfc::Requantization rq(scales, 7);
    const long double expected = std::clamp<long double>(exact_requantized(a, scale) + 7, 0, 255);
    ASSERT_EQ(int{rq.apply<std::uint8_t>(a, 0)}, static_cast<int>(expected)) << a << " * " << scale;
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
  EXPECT_THROW(conv.run(in, std::span<std::uint8_t>(out_u8), sfc::Requantization(two, -5)), sfc::Error);
  const std::vector<float> three{1.0f, 1.0f, 1.0f};
  EXPECT_NO_THROW(conv.run(in, std::span<std::int8_t>(out), sfc::Requantization(three)));
  EXPECT_THROW(conv.run(in, std::span<std::int8_t>(out).first(out.size() - 1), sfc::Requantization(three)),
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
  EXPECT_NO_THROW(Conv(ok, std::span<const std::int8_t>(ww).first(static_cast<std::size_t>(ok.weight_elements())), {}, 0));
  EXPECT_EQ(Conv::channels_per_int32_sum, 203);  // 404 for int8 input
}

}  // namespace
