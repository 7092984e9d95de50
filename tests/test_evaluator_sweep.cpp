// Bit-exactness sweep: every SFC-N(M, R) with N in {2, 3, 4, 6}, M in 1..8 and
// R in 1..7, in both 2D forms, generated at run time by the same generator
// the constexpr types use (make_sfc_1d, make_plan_2d), run tile by tile on
// random int8 tensors and compared bit for bit with direct convolution. Odd
// image sizes, padding 0..R-1 on each side, batch 1-2, 1-3 channels; random
// data and the extremes (all +127, all -128, alternating signs).

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sfc/core/conv_shape.hpp"
#include "sfc/reference/direct_conv.hpp"
#include "sfc/reference/tile_evaluator.hpp"
#include "sfc/transforms/proof.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

sfc::Conv2dShape sweep_shape(int M, int R, int variant) {
  sfc::Conv2dShape s;
  s.batch = 1 + variant % 2;
  s.in_channels = 1 + variant % 3;
  s.out_channels = 1 + (variant + 1) % 3;
  s.height = 2 * ((M + R + variant) % 7) + 1;     // odd, 1..13
  s.width = 2 * ((M + 2 * R + variant) % 6) + 3;  // odd, 3..13
  s.kernel_h = s.kernel_w = R;
  s.pad_top = variant % R;
  s.pad_bottom = (variant + 1) % R;
  s.pad_left = (variant + 2) % R;
  s.pad_right = (R - 1 + variant) % R;
  while (s.output_height() < 1) s.height += 2;  // keep H and W odd
  while (s.output_width() < 1) s.width += 2;
  return s;
}

/// Data fills: random, and the adversarial extremes.
enum class Fill { random, all_max, all_min, alternating };

std::int8_t value(Fill f, std::size_t i, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(-128, 127);
  switch (f) {
    case Fill::all_max: return 127;
    case Fill::all_min: return -128;
    case Fill::alternating: return static_cast<std::int8_t>(i % 2 != 0 ? 127 : -128);
    case Fill::random: break;
  }
  return static_cast<std::int8_t>(dist(rng));
}

void expect_bit_exact(const sfc::Plan2D& plan, const sfc::Conv2dShape& s, std::mt19937& rng,
                      const std::string& what, Fill fill = Fill::random) {
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<std::int8_t> x(static_cast<std::size_t>(s.input_elements()));
  std::vector<std::int8_t> w(static_cast<std::size_t>(s.weight_elements()));
  std::vector<std::int32_t> bias(static_cast<std::size_t>(s.out_channels));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = value(fill, i, rng);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = value(fill, i + 1, rng);
  for (auto& v : bias) v = dist(rng) * 1000;
  std::vector<std::int32_t> expected(static_cast<std::size_t>(s.output_elements()));
  std::vector<std::int32_t> got(expected.size(), -1);
  sfc::reference::conv2d_direct(s, std::span<const std::int8_t>(x), std::span<const std::int8_t>(w),
                                std::span<const std::int32_t>(bias), std::span<std::int32_t>(expected));
  sfc::reference::conv2d_tiled_exact(plan, s, x, w, bias, got);
  ASSERT_EQ(got, expected) << what << " fill " << static_cast<int>(fill) << " " << s.to_string();
}

class EvaluatorSweep : public ::testing::TestWithParam<int> {};

TEST_P(EvaluatorSweep, EveryTileAndKernelIsBitExactInBothForms) {
  const int N = GetParam();
  std::mt19937 rng(0x5FC0u + static_cast<unsigned>(N));
  int algorithms = 0;
  for (int M = 1; M <= 8; ++M)
    for (int R = 1; R <= 7; ++R) {
      const sfc::SfcPlan1D s = sfc::make_sfc_1d(N, M, R);
      ASSERT_TRUE(sfc::is_ternary(sfc::expand_forms(s, s.Dx)));
      ASSERT_TRUE(sfc::is_ternary(sfc::expand_forms(s, s.Dw)));
      for (const sfc::Form2D form : {sfc::Form2D::nested, sfc::Form2D::symbolic}) {
        const sfc::Plan2D plan = sfc::make_plan_2d(s, form);
        const std::string what = "SFC-" + std::to_string(N) + "(" + std::to_string(M) + ", " +
                                 std::to_string(R) + ") " +
                                 (form == sfc::Form2D::symbolic ? "symbolic" : "nested");
        ASSERT_EQ(sfc::output_denominator(plan), N * N) << what;
        for (int variant = 0; variant < 2; ++variant)
          expect_bit_exact(plan, sweep_shape(M, R, M * R + variant), rng, what);
        for (const Fill f : {Fill::all_max, Fill::all_min, Fill::alternating})
          expect_bit_exact(plan, sweep_shape(M, R, M + R), rng, what, f);
        ++algorithms;
      }
    }
  EXPECT_EQ(algorithms, 8 * 7 * 2);
}

INSTANTIATE_TEST_SUITE_P(Lengths, EvaluatorSweep, ::testing::Values(2, 3, 4, 6),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "N" + std::to_string(info.param);
                         });

TEST(RuntimeGenerator, RejectsUnsupportedParameters) {
  EXPECT_THROW((void)sfc::make_sfc_1d(5, 4, 3), std::domain_error);
  EXPECT_THROW((void)sfc::make_sfc_1d(6, 0, 3), std::domain_error);
  EXPECT_THROW((void)sfc::make_sfc_1d(6, 4, 0), std::domain_error);
  // Sizes whose index arithmetic would overflow int are refused up front.
  constexpr int kHuge = std::numeric_limits<int>::max();
  EXPECT_THROW((void)sfc::make_sfc_1d(6, kHuge, 2), std::domain_error);
  EXPECT_THROW((void)sfc::make_sfc_1d(6, 2, kHuge), std::domain_error);
  EXPECT_THROW((void)sfc::make_sfc_1d(6, 1025, 3), std::domain_error);
  EXPECT_THROW((void)sfc::make_winograd_1d(kHuge, 2), std::domain_error);
  EXPECT_THROW((void)sfc::make_winograd_1d(2, kHuge), std::domain_error);
  EXPECT_THROW((void)sfc::make_winograd_1d(15, 3), std::domain_error);
}

}  // namespace
