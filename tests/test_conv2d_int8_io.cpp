// Exact 8-bit convolution, input types and output stage: uint8 input with a
// zero point and requantized int8 / uint8 outputs for every SFC algorithm of
// the paper, bit for bit against direct convolution (see
// conv_int8_tester.hpp); exact rounding of sfc::Requantization; validation
// of zero points, scales and the uint8 output range.

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

template <class A>
class ConvInt8IO : public ::testing::Test {};
// Every paper algorithm in native builds; in the portable sanitizer build
// (scripts/test.sh pass 2), where compiling these pipelines costs most, a
// 3x3 and the 7x7 one (the stages tested here are shared by all).
#if defined(SFC_SIMD_HAS_AVX2) || defined(SFC_SIMD_HAS_AVX512)
using Algorithms = ::testing::Types<sfc::SFC<4, 4, 3>, sfc::SFC<6, 6, 3>, sfc::SFC<6, 7, 3>,
                                    sfc::SFC<6, 6, 5>, sfc::SFC<6, 4, 7>>;
#else
using Algorithms = ::testing::Types<sfc::SFC<6, 7, 3>, sfc::SFC<6, 4, 7>>;
#endif
TYPED_TEST_SUITE(ConvInt8IO, Algorithms);

TYPED_TEST(ConvInt8IO, InputTypesAndRequantization) { sfc::testing::sweep_int8_input_output<TypeParam>(); }

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
