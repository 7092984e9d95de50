// The vector operations of every compiled SIMD target against their scalar
// definitions (kernels/simd/*.hpp): wrapping int16 and int32 arithmetic,
// signed maxima, exact division after wrapping, the int16 pair products,
// the quantizing and saturating stores. The operators' sweeps run these
// operations only where a layer's data happens to reach an edge; here every
// edge is hit on purpose, lane by lane.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "sfc/kernels/simd.hpp"

namespace {

template <class Tuple>
struct AsTypes;
template <class... T>
struct AsTypes<std::tuple<T...>> {
  using type = ::testing::Types<T...>;
};

template <class S>
class SimdTarget : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!S::supported()) GTEST_SKIP() << S::name << " does not run on this CPU";
  }
};
using Targets = AsTypes<sfc::simd::CompiledTargets>::type;
TYPED_TEST_SUITE(SimdTarget, Targets);

/// n values: the extremes of T first, then pseudo-random ones.
template <class T>
std::vector<T> edge_values(int n, unsigned seed) {
  std::vector<T> v{std::numeric_limits<T>::min(),
                   std::numeric_limits<T>::max(),
                   T{-1},
                   T{0},
                   T{1},
                   static_cast<T>(std::numeric_limits<T>::max() - 1),
                   static_cast<T>(std::numeric_limits<T>::min() + 1)};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<long long> dist(std::numeric_limits<T>::min(),
                                                std::numeric_limits<T>::max());
  while (static_cast<int>(v.size()) < n) v.push_back(static_cast<T>(dist(rng)));
  v.resize(static_cast<std::size_t>(n));
  return v;
}

std::int16_t wrap16(long long x) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(x));
}
std::int32_t wrap32(long long x) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(x));
}

TYPED_TEST(SimdTarget, FloatArithmetic) {
  using S = TypeParam;
  constexpr int L = S::f32_lanes;
  std::vector<float> a(L), b(L), c(L), out(L);
  for (int i = 0; i < L; ++i) {  // small integers: every result exact
    a[i] = static_cast<float>(i - 3);
    b[i] = static_cast<float>(2 * i - 7);
    c[i] = static_cast<float>(5 - i);
  }
  const auto va = S::load(a.data()), vb = S::load(b.data()), vc = S::load(c.data());
  S::store(out.data(), S::add(va, vb));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], a[i] + b[i]) << i;
  S::store(out.data(), S::sub(va, vb));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], a[i] - b[i]) << i;
  S::store(out.data(), S::mul(va, vb));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], a[i] * b[i]) << i;
  S::store(out.data(), S::fmadd(va, vb, vc));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], a[i] * b[i] + c[i]) << i;
  S::store(out.data(), S::max(va, vb));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], std::max(a[i], b[i])) << i;
  S::store(out.data(), S::neg(S::zero()));
  for (int i = 0; i < L; ++i) EXPECT_TRUE(out[i] == 0.0f && std::signbit(out[i])) << i;
  // A broadcast keeps the sign of a zero.
  S::store(out.data(), S::broadcast(-0.0f));
  for (int i = 0; i < L; ++i) EXPECT_TRUE(out[i] == 0.0f && std::signbit(out[i])) << i;
}

TYPED_TEST(SimdTarget, Int16WrapsAsTheSimdTargets) {
  using S = TypeParam;
  constexpr int L = S::i16_lanes;
  const auto x = edge_values<std::int16_t>(L, 1), y = edge_values<std::int16_t>(L, 2);
  std::vector<std::int16_t> out(L);
  // Through int8 loads: the low bytes, sign- or zero-extended.
  std::vector<std::int8_t> s8(L);
  std::vector<std::uint8_t> u8(L);
  for (int i = 0; i < L; ++i) {
    s8[i] = static_cast<std::int8_t>(x[i]);
    u8[i] = static_cast<std::uint8_t>(x[i]);
  }
  S::store_i16(out.data(), S::load_s8(s8.data()));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], s8[i]) << i;
  S::store_i16(out.data(), S::load_u8(u8.data()));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], u8[i]) << i;

  const auto vx = S::load_i16(x.data()), vy = S::load_i16(y.data());
  S::store_i16(out.data(), S::add_i16(vx, vy));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], wrap16(x[i] + y[i])) << i;
  S::store_i16(out.data(), S::sub_i16(vx, vy));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], wrap16(x[i] - y[i])) << i;
  S::store_i16(out.data(), S::neg_i16(vx));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], wrap16(-x[i])) << i;
  for (const std::int16_t c : {std::int16_t{-3}, std::int16_t{7}, std::int16_t{-32768}}) {
    S::store_i16(out.data(), S::mul_i16(c, vx));
    for (int i = 0; i < L; ++i)
      EXPECT_EQ(out[i], wrap16(static_cast<long long>(c) * x[i])) << c << " " << i;
  }
}

TYPED_TEST(SimdTarget, Int32WrapsAndDividesExactly) {
  using S = TypeParam;
  constexpr int L = S::i32_lanes;
  const auto x = edge_values<std::int32_t>(L, 3), y = edge_values<std::int32_t>(L, 4);
  std::vector<std::int32_t> out(L);
  const auto vx = S::load_i32(x.data()), vy = S::load_i32(y.data());
  S::store_i32(out.data(), S::add_i32(vx, vy));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], wrap32(static_cast<long long>(x[i]) + y[i])) << i;
  S::store_i32(out.data(), S::sub_i32(vx, vy));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], wrap32(static_cast<long long>(x[i]) - y[i])) << i;
  S::store_i32(out.data(), S::neg_i32(vx));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], wrap32(-static_cast<long long>(x[i]))) << i;
  S::store_i32(out.data(), S::mul_i32(-5, vx));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], wrap32(-5LL * x[i])) << i;
  S::store_i32(out.data(), S::max_i32(vx, vy));  // signed
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], std::max(x[i], y[i])) << i;

  // d * q wrapped modulo 2^32, with q * 2^shift within int32: q comes back.
  for (const std::int32_t d : {1, 3, 12, 96, 4096 * 3, 1 << 20}) {
    std::vector<std::int32_t> q(L), a(L);
    int shift = 0;
    while (((d >> shift) & 1) == 0) ++shift;
    const long long qmax = (1LL << (31 - shift)) - 1;
    for (int i = 0; i < L; ++i) {
      q[i] = static_cast<std::int32_t>((i % 2 ? -1 : 1) * (qmax - (i * 977LL) % qmax));
      a[i] = wrap32(static_cast<long long>(d) * q[i]);
    }
    S::store_i32(out.data(), S::exact_div_i32(S::load_i32(a.data()), d));
    for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], q[i]) << "d = " << d << ", lane " << i;
  }
}

TYPED_TEST(SimdTarget, Int16PairProductsSumInWrappingInt32) {
  using S = TypeParam;
  const auto w = edge_values<std::int16_t>(S::i16_lanes, 5);
  const auto acc = edge_values<std::int32_t>(S::i32_lanes, 6);
  std::vector<std::int32_t> out(S::i32_lanes);
  const std::pair<std::int16_t, std::int16_t> pairs[] = {
      {-32768, -32768}, {32767, -32768}, {-7, 3}};
  for (const auto& [x0, x1] : pairs) {
    std::int32_t pair = 0;
    const std::int16_t xs[2] = {x0, x1};
    std::memcpy(&pair, xs, sizeof pair);
    S::store_i32(out.data(),
                 S::dot_pairs_i32(S::load_i32(acc.data()), pair, S::load_i16(w.data())));
    for (int j = 0; j < S::i32_lanes; ++j) {
      const long long want = static_cast<long long>(acc[j]) +
                             static_cast<long long>(x0) * w[2 * j] +
                             static_cast<long long>(x1) * w[2 * j + 1];
      EXPECT_EQ(out[j], wrap32(want)) << x0 << " " << x1 << " lane " << j;
    }
  }
}

TYPED_TEST(SimdTarget, Int64ArithmeticAndNarrowing) {
  using S = TypeParam;
  constexpr int L = S::i64_lanes;
  std::vector<std::int64_t> x(L), y(L), out(L);
  for (int i = 0; i < L; ++i) {
    x[i] = (i % 2 ? -1 : 1) * ((1LL << 40) + 12345LL * i) * 6;  // multiples of 6
    y[i] = (i % 3 ? 1 : -1) * ((1LL << 41) - 777LL * i);
  }
  const auto vx = S::load_i64(x.data()), vy = S::load_i64(y.data());
  S::store_i64(out.data(), S::add_i64(vx, vy));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], x[i] + y[i]) << i;
  S::store_i64(out.data(), S::sub_i64(vx, vy));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], x[i] - y[i]) << i;
  S::store_i64(out.data(), S::neg_i64(vx));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], -x[i]) << i;
  S::store_i64(out.data(), S::mul_i64(-1000, vx));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], -1000 * x[i]) << i;
  S::store_i64(out.data(), S::max_i64(vx, vy));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], std::max(x[i], y[i])) << i;
  S::store_i64(out.data(), S::exact_div_i64(vx, 6));
  for (int i = 0; i < L; ++i) EXPECT_EQ(out[i], x[i] / 6) << i;

  const auto narrow = edge_values<std::int32_t>(L, 7);
  std::vector<std::int32_t> back(L);
  S::store_i64_as_i32(back.data(), S::load_i32_as_i64(narrow.data()));
  EXPECT_EQ(back, narrow);
}

TYPED_TEST(SimdTarget, QuantizingStoreRoundsHalfToEvenAndClamps) {
  using S = TypeParam;
  if (!S::supports_q8()) GTEST_SKIP() << S::name << " has no quantized kernels on this CPU";
  constexpr int L = S::i16_lanes;
  std::vector<std::int16_t> v(L);
  for (int i = 0; i < L; ++i)
    v[i] = static_cast<std::int16_t>((i - L / 2) * 3);  // odd multiples of 1.5 at mult 0.5
  const auto vv = S::load_i16(v.data());
  std::vector<std::int8_t> out(L);
  for (const auto& [lo, hi] : {std::pair{-128, 127}, std::pair{-8, 7}, std::pair{-127, 127}}) {
    for (const float mult : {0.5f, 1.0f / 3.0f, 40.0f}) {
      S::store_q8(out.data(), vv, mult, lo, hi);
      for (int i = 0; i < L; ++i) {
        const auto q = static_cast<long>(std::nearbyint(static_cast<float>(v[i]) * mult));
        const long code = std::min<long>(std::max<long>(q, lo), hi);
        const auto want =
            static_cast<std::int8_t>(static_cast<std::uint8_t>(code + S::q8_data_offset));
        EXPECT_EQ(out[i], want) << "[" << lo << ", " << hi << "] x " << mult << ", lane " << i;
      }
    }
  }
}

TYPED_TEST(SimdTarget, Int8OutputSaturatesRoundsAndMapsNanToMin) {
  using S = TypeParam;
  constexpr int L = S::f32_lanes;
  const float values[] = {-1e9f,
                          -128.5f,
                          -127.5f,
                          -0.5f,
                          0.5f,
                          1.5f,
                          2.5f,
                          126.5f,
                          127.49f,
                          127.5f,
                          1e9f,
                          std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::infinity(),
                          -2.5f,
                          3.5f};
  std::vector<float> in(L);
  std::vector<std::int8_t> out(L);
  for (std::size_t start = 0; start < std::size(values); start += L) {
    for (int i = 0; i < L; ++i) in[i] = values[(start + i) % std::size(values)];
    S::store_f32_as_s8(out.data(), S::load(in.data()));
    for (int i = 0; i < L; ++i) {
      const float x = in[i];
      const int want =
          std::isnan(x) ? -128
                        : static_cast<int>(std::nearbyint(std::min(std::max(x, -128.0f), 127.0f)));
      EXPECT_EQ(out[i], want) << "input " << x;
    }
  }
}

}  // namespace
