// sfc::Half: IEEE binary16 emulation. Every encoding decodes to the value its
// fields say and converts back to itself; conversion rounds to nearest, ties
// to even, at every exponent, at the overflow threshold and below the
// smallest subnormal (checked against a brute-force nearest-value oracle);
// signed zeros and NaN behave as IEEE says; arithmetic is correctly rounded.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "sfc/quantization/half.hpp"

namespace {

using sfc::Half;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The value of encoding `bits`, from its fields (independent of sfc::Half).
double decode_fields(std::uint16_t bits) {
  const int sign = bits >> 15, exp = (bits >> 10) & 0x1F, frac = bits & 0x3FF;
  double v = 0;
  if (exp == 0x1F)
    v = frac == 0 ? kInf : std::numeric_limits<double>::quiet_NaN();
  else if (exp == 0)
    v = std::ldexp(frac, -24);
  else
    v = std::ldexp(1024 + frac, exp - 25);
  return sign ? -v : v;
}

/// The nearest finite-or-infinite half to v by brute force over all
/// non-negative finite encodings (ties to the even encoding; beyond 65520,
/// infinity), as an encoding.
std::uint16_t oracle(double v) {
  static const std::vector<double> values = [] {
    std::vector<double> t;
    for (std::uint16_t b = 0; b <= 0x7BFF; ++b) t.push_back(decode_fields(b));
    return t;
  }();
  const std::uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  const double a = std::abs(v);
  if (a >= 65520.0) return static_cast<std::uint16_t>(sign | 0x7C00);
  // First encoding whose value is >= a; compare with the one before it.
  const auto it = std::lower_bound(values.begin(), values.end(), a);
  auto hi = static_cast<std::uint16_t>(it - values.begin());
  if (hi > 0x7BFF) hi = 0x7BFF;
  std::uint16_t best = hi;
  if (hi > 0) {
    const std::uint16_t lo = static_cast<std::uint16_t>(hi - 1);
    const double dlo = a - values[lo], dhi = values[hi] - a;
    if (dlo < dhi || (dlo == dhi && (lo & 1) == 0)) best = lo;
  }
  return static_cast<std::uint16_t>(sign | best);
}

std::uint16_t bits_of(double v) { return Half(v).bits(); }

TEST(Half, EveryEncodingDecodesToItsFieldsAndRoundTrips) {
  int nans = 0;
  for (std::uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const Half h = Half::from_bits(bits);
    const double d = h.to_double();
    const double expected = decode_fields(bits);
    if (std::isnan(expected)) {
      ++nans;
      ASSERT_TRUE(std::isnan(d)) << std::hex << b;
      ASSERT_TRUE(h.is_nan()) << std::hex << b;
      ASSERT_EQ(std::signbit(d), (b & 0x8000) != 0) << std::hex << b;
      // NaN stays NaN through double and float, with its sign.
      ASSERT_TRUE(Half(d).is_nan()) << std::hex << b;
      ASSERT_TRUE(Half(static_cast<float>(d)).is_nan()) << std::hex << b;
      ASSERT_EQ(Half(d).sign_bit(), h.sign_bit()) << std::hex << b;
      ASSERT_FALSE(h == h) << std::hex << b;
      continue;
    }
    ASSERT_FALSE(h.is_nan()) << std::hex << b;
    ASSERT_EQ(d, expected) << std::hex << b;
    ASSERT_EQ(std::signbit(d), (b & 0x8000) != 0) << std::hex << b;  // -0 included
    ASSERT_EQ(Half(d).bits(), bits) << std::hex << b;
    ASSERT_EQ(Half(static_cast<float>(d)).bits(), bits) << std::hex << b;
    ASSERT_EQ(static_cast<double>(static_cast<float>(h)), d) << std::hex << b;
    ASSERT_EQ(h.is_inf(), std::isinf(d)) << std::hex << b;
    ASSERT_EQ(h.is_finite(), std::isfinite(d)) << std::hex << b;
  }
  EXPECT_EQ(nans, 2 * 1023);
}

TEST(Half, PositiveEncodingsAreStrictlyIncreasing) {
  for (std::uint16_t b = 1; b <= 0x7C00; ++b)
    ASSERT_LT(Half::from_bits(static_cast<std::uint16_t>(b - 1)), Half::from_bits(b))
        << std::hex << b;
}

TEST(Half, TiesRoundToEvenAtEveryExponent) {
  for (int e = -14; e <= 15; ++e) {
    const double ulp = std::ldexp(1.0, e - 10);
    for (const int k : {0, 1, 2, 511, 512, 1021, 1022}) {  // fraction of the lower neighbour
      const double lo = std::ldexp(1024 + k, e - 10);
      const double mid = lo + ulp / 2;
      const std::uint16_t lo_bits = bits_of(lo);
      ASSERT_EQ(Half::from_bits(lo_bits).to_double(), lo);
      const auto hi_bits = static_cast<std::uint16_t>(lo_bits + 1);
      const std::uint16_t even = (lo_bits & 1) == 0 ? lo_bits : hi_bits;
      EXPECT_EQ(bits_of(mid), even) << "e=" << e << " k=" << k;
      EXPECT_EQ(bits_of(-mid), even | 0x8000) << "e=" << e << " k=" << k;
      EXPECT_EQ(bits_of(std::nextafter(mid, kInf)), hi_bits) << "e=" << e << " k=" << k;
      EXPECT_EQ(bits_of(std::nextafter(mid, 0.0)), lo_bits) << "e=" << e << " k=" << k;
      // float has fewer bits, but still enough to sit on either side of the tie.
      EXPECT_EQ(Half(std::nextafter(static_cast<float>(mid), 1e30f)).bits(), hi_bits);
      EXPECT_EQ(Half(std::nextafter(static_cast<float>(mid), 0.0f)).bits(), lo_bits);
    }
  }
  // Known values: 1 + 2^-11 -> 1; 1 + 3 2^-11 -> 1 + 2^-9; integers above 2048.
  EXPECT_EQ(bits_of(1.0 + std::ldexp(1.0, -11)), 0x3C00);
  EXPECT_EQ(bits_of(1.0 + 3 * std::ldexp(1.0, -11)), 0x3C02);
  EXPECT_EQ(Half(2049).to_double(), 2048.0);
  EXPECT_EQ(Half(2051).to_double(), 2052.0);
  EXPECT_EQ(Half(2050).to_double(), 2050.0);
  EXPECT_EQ(Half(4098).to_double(), 4096.0);  // tie between 4096 and 4100
  EXPECT_EQ(Half(4102).to_double(), 4104.0);  // tie between 4100 and 4104
  EXPECT_EQ(bits_of(0.1), 0x2E66);
  EXPECT_EQ(bits_of(1.0 / 3), 0x3555);
}

TEST(Half, OverflowThresholds) {
  EXPECT_EQ(bits_of(65504.0), 0x7BFF);
  EXPECT_EQ(Half::max().to_double(), 65504.0);
  EXPECT_EQ(bits_of(std::nextafter(65520.0, 0.0)), 0x7BFF);
  EXPECT_EQ(bits_of(65520.0), 0x7C00);
  EXPECT_EQ(bits_of(-65520.0), 0xFC00);
  EXPECT_EQ(bits_of(-std::nextafter(65520.0, 0.0)), 0xFBFF);
  EXPECT_EQ(bits_of(65536.0), 0x7C00);
  EXPECT_EQ(bits_of(1e300), 0x7C00);
  EXPECT_EQ(bits_of(kInf), 0x7C00);
  EXPECT_EQ(bits_of(-kInf), 0xFC00);
  EXPECT_EQ(Half(65520.0f).bits(), 0x7C00);
  EXPECT_EQ(Half(std::numeric_limits<float>::max()).bits(), 0x7C00);
  EXPECT_EQ(Half(100000).bits(), 0x7C00);
  EXPECT_TRUE(Half(65520.0).is_inf());
}

TEST(Half, SubnormalsAndUnderflow) {
  const double tiny = std::ldexp(1.0, -24);  // smallest subnormal
  EXPECT_EQ(bits_of(tiny), 0x0001);
  EXPECT_EQ(Half::denorm_min().to_double(), tiny);
  EXPECT_EQ(bits_of(tiny / 2), 0x0000);                       // tie with 0: even
  EXPECT_EQ(bits_of(-tiny / 2), 0x8000);                      // keeps its sign
  EXPECT_EQ(bits_of(std::nextafter(tiny / 2, 1.0)), 0x0001);  // just above the tie
  EXPECT_EQ(bits_of(0.75 * tiny), 0x0001);
  EXPECT_EQ(bits_of(tiny / 4), 0x0000);
  EXPECT_EQ(bits_of(1.5 * tiny), 0x0002);     // tie: even
  EXPECT_EQ(bits_of(2.5 * tiny), 0x0002);     // tie: even
  EXPECT_EQ(bits_of(1023 * tiny), 0x03FF);    // largest subnormal
  EXPECT_EQ(bits_of(1023.5 * tiny), 0x0400);  // tie up into the normals
  EXPECT_EQ(bits_of(std::ldexp(1.0, -14)), 0x0400);
  EXPECT_EQ(Half::min_normal().to_double(), std::ldexp(1.0, -14));
  EXPECT_EQ(bits_of(std::numeric_limits<double>::denorm_min()), 0x0000);
  EXPECT_EQ(bits_of(-std::numeric_limits<double>::denorm_min()), 0x8000);
  EXPECT_EQ(bits_of(std::numeric_limits<double>::min()), 0x0000);
  EXPECT_EQ(Half(std::numeric_limits<float>::denorm_min()).bits(), 0x0000);
  EXPECT_EQ(Half(static_cast<float>(tiny)).bits(), 0x0001);
}

TEST(Half, SignedZeros) {
  EXPECT_EQ(Half(0.0).bits(), 0x0000);
  EXPECT_EQ(Half(-0.0).bits(), 0x8000);
  EXPECT_EQ(Half(-0.0f).bits(), 0x8000);
  EXPECT_EQ(Half().bits(), 0x0000);
  EXPECT_TRUE(std::signbit(Half::from_bits(0x8000).to_double()));
  EXPECT_TRUE(Half(0.0) == Half(-0.0));
  EXPECT_FALSE(Half(0.0) < Half(-0.0));
  EXPECT_EQ((-Half(0.0)).bits(), 0x8000);
  EXPECT_EQ((Half(-0.0) + Half(-0.0)).bits(), 0x8000);
  EXPECT_EQ((Half(0.0) + Half(-0.0)).bits(), 0x0000);
  EXPECT_EQ((Half(1.0) - Half(1.0)).bits(), 0x0000);
  EXPECT_EQ((Half(-1.0) * Half(0.0)).bits(), 0x8000);
  EXPECT_EQ((Half(1.0) / Half(-kInf)).bits(), 0x8000);
  EXPECT_EQ((Half(-std::ldexp(1.0, -24)) * Half(0.25)).bits(), 0x8000);  // underflow keeps the sign
}

TEST(Half, ArithmeticKnownValues) {
  const Half one(1.0), three(3.0);
  const Half third = one / three;
  EXPECT_EQ(third.bits(), 0x3555);              // 0.333251953125
  EXPECT_EQ((three * third).to_double(), 1.0);  // 1 - 2^-12 exactly is a tie: rounds to even 1.0
  EXPECT_EQ((Half(2.0) / three).bits(), 0x3955);
  EXPECT_EQ((one + Half::epsilon()).to_double(), 1.0 + std::ldexp(1.0, -10));
  EXPECT_EQ((one + Half(std::ldexp(1.0, -11))).to_double(), 1.0);  // tie: even
  EXPECT_EQ((Half(2048.0) + one).to_double(), 2048.0);             // tie: even
  EXPECT_EQ((Half(2050.0) + one).to_double(), 2052.0);             // tie: even
  EXPECT_EQ((Half(65504.0) + Half(8.0)).bits(), 0x7BFF);
  EXPECT_EQ((Half(65504.0) + Half(16.0)).bits(), 0x7C00);  // 65520: infinity
  EXPECT_EQ((Half(256.0) * Half(256.0)).bits(), 0x7C00);
  EXPECT_EQ((Half::denorm_min() * Half(0.5)).bits(), 0x0000);  // tie with 0: even
  EXPECT_EQ((Half::denorm_min() * Half(1.5)).bits(), 0x0002);  // tie: even
  EXPECT_EQ((Half(0.1) * Half(0.1)).bits(), 0x211E);           // 0.0099945068359375
  EXPECT_EQ((Half(0.1) + Half(0.2)).bits(), 0x34CC);           // 0.2998046875
  EXPECT_EQ((Half(1.0) / Half(0.0)).bits(), 0x7C00);
  EXPECT_EQ((Half(-1.0) / Half(0.0)).bits(), 0xFC00);
  EXPECT_TRUE((Half(0.0) / Half(0.0)).is_nan());
  EXPECT_TRUE((Half::infinity() - Half::infinity()).is_nan());
  EXPECT_TRUE((Half::quiet_nan() + one).is_nan());
  Half acc(1.0);
  acc += Half(2.0);
  acc *= Half(4.0);
  acc -= Half(2.0);
  acc /= Half(5.0);
  EXPECT_EQ(acc.to_double(), 2.0);
  EXPECT_TRUE(Half(1.0) < Half(2.0));
  EXPECT_TRUE(Half(-2.0) < Half(-1.0));
  EXPECT_FALSE(Half::quiet_nan() < one);
  EXPECT_FALSE(one < Half::quiet_nan());
  EXPECT_TRUE(Half::quiet_nan() != Half::quiet_nan());
  EXPECT_EQ(sfc::round_to_half(0.1), 0.0999755859375);
  static_assert(Half(1.0).bits() == 0x3C00 && (Half(1.0) + Half(1.0)).to_double() == 2.0);
}

TEST(Half, ConversionMatchesNearestValueOracle) {
  std::mt19937_64 rng(7);
  for (int n = 0; n < 200000; ++n) {
    // Random sign, binade and fraction over the whole half range and beyond.
    const double frac = 1.0 + static_cast<double>(rng() >> 11) * 0x1p-53;
    const int e = static_cast<int>(rng() % 48) - 28;  // 2^-28 .. 2^19
    const double v = std::ldexp(frac, e) * ((rng() & 1) != 0 ? -1 : 1);
    ASSERT_EQ(bits_of(v), oracle(v)) << v;
  }
}

TEST(Half, ArithmeticIsCorrectlyRounded) {
  std::mt19937_64 rng(11);
  // Operands of moderate exponent: results stay normal and finite, and
  // x - r y below is exact in double.
  const auto pick = [&] {
    const std::uint16_t e = static_cast<std::uint16_t>(9 + rng() % 13);  // 2^-6 .. 2^6 binades
    return Half::from_bits(
        static_cast<std::uint16_t>((rng() & 0x8000) | (e << 10) | (rng() & 0x3FF)));
  };
  for (int n = 0; n < 100000; ++n) {
    const Half a = pick(), b = pick();
    const double x = a.to_double(), y = b.to_double();
    // Sums, differences and products of halves are exact in double.
    ASSERT_EQ((a + b).bits(), oracle(x + y)) << x << " + " << y;
    ASSERT_EQ((a - b).bits(), oracle(x - y)) << x << " - " << y;
    ASSERT_EQ((a * b).bits(), oracle(x * y)) << x << " * " << y;
    // Quotient r: |x - r y| is no larger than for either neighbour of r, and a
    // tie goes to the even encoding (all these values are exact in double).
    const Half r = a / b;
    const double err = std::abs(x - r.to_double() * y);
    for (const int step : {-1, 1}) {
      const Half nb = Half::from_bits(static_cast<std::uint16_t>(r.bits() + step));
      const double nerr = std::abs(x - nb.to_double() * y);
      ASSERT_LE(err, nerr) << x << " / " << y;
      if (err == nerr) {
        ASSERT_EQ(r.bits() & 1, 0) << x << " / " << y;
      }
    }
  }
}

}  // namespace
