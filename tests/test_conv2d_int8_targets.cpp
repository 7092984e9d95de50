// Exact 8-bit convolution operator on the portable and AVX2 targets of a
// native build (the native target's sweeps: test_conv2d_int8.cpp), and the
// exact rounding of sfc::Requantization.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "conv_int8_tester.hpp"
#include "sfc/transforms/sfc.hpp"

namespace {

// The portable target in an optimized native build (the portable pass of
// scripts/test.sh runs SweepNative on it for every algorithm); two
// algorithms, 3x3 and 7x7. SFC_SKIP_PORTABLE_TARGET_TESTS leaves them out
// when the portable pass runs too.
#if defined(SFC_SIMD_HAS_AVX512) && !defined(SFC_TEST_SKIP_PORTABLE_TARGET)
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

}  // namespace
