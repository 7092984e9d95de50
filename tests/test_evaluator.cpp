// The tile-by-tile evaluator: exact int8 results on the paper's algorithms
// (random and extreme inputs), Winograd in exact arithmetic, the float path,
// and bad input. The full (N, M, R) sweep is in test_evaluator_sweep_n*.cpp.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/reference/direct_conv.hpp"
#include "sfc/reference/tile_evaluator.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

using Sfc4_4_3 = sfc::SFC<4, 4, 3>;
using Sfc6_6_3 = sfc::SFC<6, 6, 3>;
using Sfc6_7_3 = sfc::SFC<6, 7, 3>;
using Sfc6_6_5 = sfc::SFC<6, 6, 5>;
using Sfc6_4_7 = sfc::SFC<6, 4, 7>;
using Wino2_3 = sfc::Winograd<2, 3>;
using Wino4_3 = sfc::Winograd<4, 3>;

enum class Fill { random, max, min, alternating, checker_extremes };

std::vector<std::int8_t> make(std::size_t n, Fill f, std::mt19937& rng, bool flip = false) {
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<std::int8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (f) {
      case Fill::random: v[i] = static_cast<std::int8_t>(dist(rng)); break;
      case Fill::max: v[i] = 127; break;
      case Fill::min: v[i] = -128; break;
      case Fill::alternating: v[i] = static_cast<std::int8_t>(((i % 2) != 0) != flip ? 127 : -128); break;
      case Fill::checker_extremes:
        v[i] = static_cast<std::int8_t>((((i / 3) + (i % 5)) % 2 != 0) != flip ? -128 : 127);
        break;
    }
  }
  return v;
}

sfc::Conv2dShape shape(std::int64_t batch, std::int64_t cin, std::int64_t cout, std::int64_t h,
                       std::int64_t w, int r, int pad) {
  sfc::Conv2dShape s;
  s.batch = batch;
  s.in_channels = cin;
  s.out_channels = cout;
  s.height = h;
  s.width = w;
  s.kernel_h = s.kernel_w = r;
  s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = pad;
  return s;
}

template <class A2>
void expect_exact(const sfc::Conv2dShape& s, Fill fx, Fill fw, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const auto x = make(static_cast<std::size_t>(s.input_elements()), fx, rng);
  const auto w = make(static_cast<std::size_t>(s.weight_elements()), fw, rng, true);
  std::vector<std::int32_t> bias(static_cast<std::size_t>(s.out_channels));
  for (std::size_t o = 0; o < bias.size(); ++o) bias[o] = static_cast<std::int32_t>(o * 7919) - 5000;
  std::vector<std::int32_t> expected(static_cast<std::size_t>(s.output_elements()));
  std::vector<std::int32_t> got(expected.size(), 0x5A5A5A5A);
  sfc::reference::conv2d_direct(s, std::span<const std::int8_t>(x), std::span<const std::int8_t>(w),
                                std::span<const std::int32_t>(bias), std::span<std::int32_t>(expected));
  sfc::reference::conv2d_tiled_exact<A2>(s, x, w, bias, got);
  ASSERT_EQ(got, expected) << A2::algorithm::display_name() << " " << s.to_string();
}

template <class A>
void exact_suite(int r) {
  for (int pad = 0; pad < r; ++pad) {
    SCOPED_TRACE("pad " + std::to_string(pad));
    const auto s = shape(2, 5, 3, 2 * A::M + 3, 3 * A::M + 1, r, pad);
    for (Fill f : {Fill::random, Fill::max, Fill::min, Fill::alternating, Fill::checker_extremes}) {
      expect_exact<typename A::symbolic_2d>(s, f, f, 1234u + static_cast<unsigned>(pad));
      expect_exact<typename A::nested_2d>(s, f, f, 99u + static_cast<unsigned>(pad));
    }
    // Mixed extremes: inputs at +127 against weights at -128 (largest magnitudes).
    expect_exact<typename A::symbolic_2d>(s, Fill::max, Fill::min, 7u);
  }
}

TEST(TileEvaluatorExact, Sfc4_4_3) { exact_suite<Sfc4_4_3>(3); }
TEST(TileEvaluatorExact, Sfc6_6_3) { exact_suite<Sfc6_6_3>(3); }
TEST(TileEvaluatorExact, Sfc6_7_3) { exact_suite<Sfc6_7_3>(3); }
TEST(TileEvaluatorExact, Sfc6_6_5) { exact_suite<Sfc6_6_5>(5); }
TEST(TileEvaluatorExact, Sfc6_4_7) { exact_suite<Sfc6_4_7>(7); }

TEST(TileEvaluatorExact, ManyChannelsOfExtremes) {
  // 256 channels of -128 x -128: every product at its largest magnitude.
  const auto s = shape(1, 256, 2, 9, 9, 3, 1);
  expect_exact<Sfc6_7_3::symbolic_2d>(s, Fill::min, Fill::min, 1u);
  expect_exact<Sfc6_7_3::symbolic_2d>(s, Fill::alternating, Fill::alternating, 2u);
}

TEST(TileEvaluatorExact, WinogradInExactArithmetic) {
  for (int pad = 0; pad < 3; ++pad) {
    const auto s = shape(1, 3, 2, 11, 9, 3, pad);
    expect_exact<Wino2_3::nested_2d>(s, Fill::random, Fill::random, 5u);
    expect_exact<Wino4_3::nested_2d>(s, Fill::random, Fill::random, 6u);
    expect_exact<Wino4_3::nested_2d>(s, Fill::min, Fill::max, 6u);
  }
}

// ---- float path: error bound against the double-precision direct reference.
template <class A2>
double max_rel_error(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const auto s = shape(1, 8, 4, 17, 15, A2::R, A2::R / 2);
  std::vector<float> x(static_cast<std::size_t>(s.input_elements()));
  std::vector<float> w(static_cast<std::size_t>(s.weight_elements()));
  for (auto& v : x) v = dist(rng);
  for (auto& v : w) v = dist(rng);
  std::vector<float> ref(static_cast<std::size_t>(s.output_elements()));
  std::vector<float> got(ref.size());
  sfc::reference::conv2d_direct(s, std::span<const float>(x), std::span<const float>(w), {},
                                std::span<float>(ref));
  sfc::reference::conv2d_tiled<A2>(s, x, w, {}, got);
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    worst = std::max(worst, std::abs(double(got[i]) - double(ref[i])) / (1.0 + std::abs(double(ref[i]))));
  return worst;
}

TEST(TileEvaluatorFloat, AgreesWithDirectToFloatRounding) {
  // Stages run in double: the only error is the final rounding to float
  // (relative 2^-24) plus double round-off far below it.
  const double bound = 2e-7;
  EXPECT_LT(max_rel_error<Sfc6_7_3::symbolic_2d>(1), bound);
  EXPECT_LT(max_rel_error<Sfc6_6_5::symbolic_2d>(2), bound);
  EXPECT_LT(max_rel_error<Sfc6_4_7::symbolic_2d>(3), bound);
  EXPECT_LT(max_rel_error<Sfc4_4_3::nested_2d>(4), bound);
  EXPECT_LT(max_rel_error<Wino4_3::nested_2d>(5), bound);
}

// ---- bad input.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const sfc::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TileEvaluatorErrors, RejectsBadCalls) {
  using A2 = Sfc6_7_3::symbolic_2d;
  auto s = shape(1, 2, 2, 8, 8, 3, 1);
  std::vector<std::int8_t> x(static_cast<std::size_t>(s.input_elements()));
  std::vector<std::int8_t> w(static_cast<std::size_t>(s.weight_elements()));
  std::vector<std::int32_t> y(static_cast<std::size_t>(s.output_elements()));
  std::vector<std::int32_t> bias(3);
  EXPECT_NE(error_of([&] { sfc::reference::conv2d_tiled_exact<A2>(s, x, w, bias, y); }).find("bias"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              sfc::reference::conv2d_tiled_exact<A2>(s, std::span(x).first(x.size() - 1), w, {}, y);
            }).find("input buffer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { sfc::reference::conv2d_tiled_exact<A2>(s, x, w, {}, std::span(y).first(3)); })
                .find("output buffer"),
            std::string::npos);
  auto s5 = s;
  s5.kernel_h = s5.kernel_w = 5;
  EXPECT_NE(error_of([&] { sfc::reference::conv2d_tiled_exact<A2>(s5, x, w, {}, y); }).find("kernel"),
            std::string::npos);
  auto s2 = s;
  s2.stride_h = 2;
  EXPECT_NE(error_of([&] { sfc::reference::conv2d_tiled_exact<A2>(s2, x, w, {}, y); }).find("stride"),
            std::string::npos);
}

}  // namespace
