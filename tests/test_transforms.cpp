// Transform generators: counts, structure and exactness of SFC and Winograd.

#include <gtest/gtest.h>

#include <array>
#include <tuple>

#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

using sfc::Rational;
using Sfc4_4_3 = sfc::SFC<4, 4, 3>;
using Sfc6_6_3 = sfc::SFC<6, 6, 3>;
using Sfc6_7_3 = sfc::SFC<6, 7, 3>;
using Sfc6_6_5 = sfc::SFC<6, 6, 5>;
using Sfc6_4_7 = sfc::SFC<6, 4, 7>;
using Sfc12_2_3 = sfc::SFC<12, 2, 3>;
using Wino2_3 = sfc::Winograd<2, 3>;
using Wino4_3 = sfc::Winograd<4, 3>;
using Wino2_7 = sfc::Winograd<2, 7>;

// ---- DESIGN.md 1.5: multiplications per 2D tile (symbolic / nested). ----
static_assert(sfc::SFC<4, 4, 3>::mults_2d_symbolic == 46);
static_assert(sfc::SFC<4, 4, 3>::mults_2d_nested == 49);
static_assert(sfc::SFC<6, 6, 3>::mults_2d_symbolic == 88);
static_assert(sfc::SFC<6, 6, 3>::mults_2d_nested == 100);
static_assert(sfc::SFC<6, 7, 3>::mults_2d_symbolic == 132);
static_assert(sfc::SFC<6, 7, 3>::mults_2d_nested == 144);
static_assert(sfc::SFC<6, 6, 5>::mults_2d_symbolic == 184);
static_assert(sfc::SFC<6, 6, 5>::mults_2d_nested == 196);
static_assert(sfc::SFC<6, 4, 7>::mults_2d_symbolic == 184);
static_assert(sfc::SFC<6, 4, 7>::mults_2d_nested == 196);
static_assert(sfc::Winograd<2, 3>::mults_2d_nested == 16);
static_assert(sfc::Winograd<4, 3>::mults_2d_nested == 36);

// ---- DESIGN.md 1.2: cyclic costs. ----
static_assert(sfc::CyclicCorrelation<2>::products == 2);
static_assert(sfc::CyclicCorrelation<3>::products == 4);
static_assert(sfc::CyclicCorrelation<4>::products == 5);
static_assert(sfc::CyclicCorrelation<6>::products == 8);
static_assert(sfc::CyclicCorrelation<8>::products == 14);
static_assert(sfc::CyclicCorrelation<12>::products == 20);

// ---- DESIGN.md 1.3: window offsets and 1D counts. ----
static_assert(sfc::SFC<4, 4, 3>::window_offset == 1 && sfc::SFC<4, 4, 3>::T == 7);
static_assert(sfc::SFC<6, 6, 3>::window_offset == 1 && sfc::SFC<6, 6, 3>::T == 10);
static_assert(sfc::SFC<6, 7, 3>::window_offset == 1 && sfc::SFC<6, 7, 3>::T == 12);
static_assert(sfc::SFC<6, 6, 5>::window_offset == 2 && sfc::SFC<6, 6, 5>::T == 14);
static_assert(sfc::SFC<6, 4, 7>::window_offset == 2 && sfc::SFC<6, 4, 7>::T == 14);

TEST(SfcTransforms, Sfc6_7_3HasExactlyTheFourCorrectionsOfTheDesign) {
  using A = sfc::SFC<6, 7, 3>;
  // (x0 - x6) w0 -> y0, (x7 - x1) w2 -> y5, (x7 - x1) w1 -> y6, (x8 - x2) w2 -> y6.
  const std::array<sfc::Correction, 4> expected = {{
      {0, 0, 0, 6},
      {5, 2, 7, 1},
      {6, 1, 7, 1},
      {6, 2, 8, 2},
  }};
  ASSERT_EQ(A::corrections.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(A::corrections[i], expected[i]) << "correction " << i;
  }
}

TEST(SfcTransforms, CorrectionsOutsideTheTileReadZero) {
  // SFC-6(2, 3): L = 4 < N, the window covers the tile: no corrections at all.
  using A = sfc::SFC<6, 2, 3>;
  EXPECT_EQ(A::num_corrections, 0);
  EXPECT_EQ(A::T, sfc::CyclicCorrelation<6>::products);
  // SFC-2(3, 3): L = 5, window of 2 -> many corrections, some wrap to a valid x.
  using B = sfc::SFC<2, 3, 3>;
  EXPECT_GT(B::num_corrections, 0);
  for (const auto& c : B::corrections) {
    EXPECT_TRUE(c.plus < B::window_offset || c.plus >= B::window_offset + B::N);
    EXPECT_EQ(c.output + c.tap, c.plus);
  }
}

TEST(SfcTransforms, KaratsubaSignsKeepRowsTernary) {
  // DESIGN.md 1.2: s = +1 for Phi_4 and Phi_6, s = -1 for Phi_3.
  for (const auto& b : sfc::CyclicCorrelation<6>::blocks) {
    if (b.factor == 3) {
      EXPECT_EQ(b.signs[0], -1);
    }
    if (b.factor == 6) {
      EXPECT_EQ(b.signs[0], 1);
    }
  }
  for (const auto& b : sfc::CyclicCorrelation<4>::blocks) {
    if (b.factor == 4) {
      EXPECT_EQ(b.signs[0], 1);
    }
  }
}

// ---- Structure of every instantiation used by the library. ----
template <class A>
void expect_sfc_structure() {
  SCOPED_TRACE(A::display_name());
  EXPECT_TRUE(sfc::is_ternary(A::BT));
  EXPECT_TRUE(sfc::is_ternary(A::G));
  EXPECT_TRUE(sfc::is_ternary(A::Dx));
  EXPECT_TRUE(sfc::is_ternary(A::Dw));
  EXPECT_EQ(A::AT_denominator, A::N);
  EXPECT_TRUE(sfc::correlates_exactly(A::BT, A::G, A::AT));
  EXPECT_EQ(A::symbolic_2d::AT_denominator, A::N * A::N);
  EXPECT_EQ(A::nested_2d::AT_denominator, A::N * A::N);
  // The symbolic blocks are proven at compile time; here check every block,
  // nested ones included, at run time.
  EXPECT_TRUE(sfc::pair_blocks_exact<typename A::symbolic_2d>(true));
  EXPECT_TRUE(sfc::pair_blocks_exact<typename A::nested_2d>(true));
}

TEST(SfcTransforms, PaperAlgorithmsAreTernaryWithDenominatorN) {
  expect_sfc_structure<sfc::SFC<4, 4, 3>>();
  expect_sfc_structure<sfc::SFC<6, 6, 3>>();
  expect_sfc_structure<sfc::SFC<6, 7, 3>>();
  expect_sfc_structure<sfc::SFC<6, 6, 5>>();
  expect_sfc_structure<sfc::SFC<6, 4, 7>>();
}

TEST(SfcTransforms, OtherLengthsAreTernaryWithDenominatorN) {
  expect_sfc_structure<sfc::SFC<2, 2, 3>>();
  expect_sfc_structure<sfc::SFC<3, 3, 3>>();
  expect_sfc_structure<sfc::SFC<8, 4, 3>>();
  expect_sfc_structure<sfc::SFC<12, 2, 3>>();
}

// ---- Whole 2D algorithms, checked numerically on every basis pair. ----
template <class A2>
void expect_2d_correlates() {
  const sfc::DenseMatrix bt = A2::BT();
  const sfc::DenseMatrix g = A2::G();
  const sfc::DenseMatrix at = A2::AT();
  constexpr int L = A2::L, M = A2::M, R = A2::R, T = A2::T;
  ASSERT_EQ(bt.rows, T);
  ASSERT_EQ(bt.cols, L * L);
  ASSERT_EQ(g.cols, R * R);
  ASSERT_EQ(at.rows, M * M);
  int failures = 0;
  for (int py = 0; py < L; ++py)
    for (int px = 0; px < L; ++px)
      for (int ky = 0; ky < R; ++ky)
        for (int kx = 0; kx < R; ++kx) {
          std::array<Rational, T> m{};
          for (int t = 0; t < T; ++t) m[static_cast<std::size_t>(t)] = bt(t, py * L + px) * g(t, ky * R + kx);
          for (int oy = 0; oy < M; ++oy)
            for (int ox = 0; ox < M; ++ox) {
              Rational y;
              for (int t = 0; t < T; ++t)
                if (!m[static_cast<std::size_t>(t)].is_zero()) y += at(oy * M + ox, t) * m[static_cast<std::size_t>(t)];
              const bool hit = py == oy + ky && px == ox + kx;
              if (y != Rational(hit ? 1 : 0) && ++failures < 5)
                ADD_FAILURE() << "x(" << py << "," << px << ") w(" << ky << "," << kx << ") y(" << oy
                              << "," << ox << ")";
            }
        }
  EXPECT_EQ(failures, 0);
}

template <class A2>
void expect_2d_ternary() {
  const sfc::DenseMatrix bt = A2::BT();
  const sfc::DenseMatrix g = A2::G();
  EXPECT_TRUE(sfc::is_ternary(bt));
  EXPECT_TRUE(sfc::is_ternary(g));
}

TEST(SfcTransforms2D, NestedAndSymbolicFormsCorrelateExactly) {
  expect_2d_correlates<sfc::SFC<4, 4, 3>::symbolic_2d>();
  expect_2d_correlates<sfc::SFC<4, 4, 3>::nested_2d>();
  expect_2d_correlates<sfc::SFC<6, 6, 3>::symbolic_2d>();
  expect_2d_correlates<sfc::SFC<6, 7, 3>::symbolic_2d>();
  expect_2d_correlates<sfc::SFC<6, 7, 3>::nested_2d>();
  expect_2d_correlates<sfc::SFC<6, 6, 5>::symbolic_2d>();
  expect_2d_correlates<sfc::SFC<6, 4, 7>::symbolic_2d>();
  expect_2d_correlates<sfc::SFC<12, 2, 3>::symbolic_2d>();
  expect_2d_correlates<sfc::Winograd<4, 3>::nested_2d>();
}

TEST(SfcTransforms2D, SymbolicTransformsStayTernary) {
  expect_2d_ternary<sfc::SFC<4, 4, 3>::symbolic_2d>();
  expect_2d_ternary<sfc::SFC<6, 6, 3>::symbolic_2d>();
  expect_2d_ternary<sfc::SFC<6, 7, 3>::symbolic_2d>();
  expect_2d_ternary<sfc::SFC<6, 6, 5>::symbolic_2d>();
  expect_2d_ternary<sfc::SFC<6, 4, 7>::symbolic_2d>();
}

TEST(SfcTransforms2D, SplitPairsAreTheQuadraticPairsOfOneField) {
  // N = 6: Phi_3 and Phi_6 generate the same field: 2 x 2 split pairs.
  EXPECT_EQ(Sfc6_7_3::symbolic_2d::num_split_pairs, 4);
  // N = 4: only Phi_4 x Phi_4.
  EXPECT_EQ(Sfc4_4_3::symbolic_2d::num_split_pairs, 1);
  // N = 12: {Phi_3, Phi_6}^2 and Phi_4 x Phi_4; Q(i) and Q(zeta_3) differ.
  EXPECT_EQ(Sfc12_2_3::symbolic_2d::num_split_pairs, 5);
  EXPECT_EQ(Sfc6_7_3::nested_2d::num_split_pairs, 0);
}

TEST(SfcTransforms2D, GrowthBoundsMatchTheDesign) {
  // DESIGN.md 1.4: data 36 (N = 6), 16 (N = 4); weights R^2.
  EXPECT_EQ(Sfc6_7_3::symbolic_2d::data_growth, Rational(36));
  EXPECT_EQ(Sfc4_4_3::symbolic_2d::data_growth, Rational(16));
  EXPECT_EQ(Sfc6_7_3::symbolic_2d::weight_growth, Rational(9));
  EXPECT_EQ(Sfc6_6_5::symbolic_2d::weight_growth, Rational(25));
  EXPECT_EQ(Sfc6_4_7::symbolic_2d::weight_growth, Rational(49));
  EXPECT_EQ(Sfc6_7_3::data_growth_1d, Rational(6));
  EXPECT_EQ(Sfc6_7_3::weight_growth_1d, Rational(3));
}

// ---- Winograd (Cook-Toom). ----
TEST(WinogradTransforms, F2x3MatchesThePublishedMatricesUpToProductScaling) {
  // Lavin & Gray's F(2, 3). Each product t may be scaled: BT row by c,
  // G row by 1/c; the output transform must match exactly.
  using W = Wino2_3;
  const int BT[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  const Rational G[4][3] = {{1, 0, 0},
                            {Rational(1, 2), Rational(1, 2), Rational(1, 2)},
                            {Rational(1, 2), Rational(-1, 2), Rational(1, 2)},
                            {0, 0, 1}};
  const int AT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
  for (int t = 0; t < 4; ++t) {
    // c scales the BT row, a the AT column; then G must be scaled by 1/(c a).
    Rational c, a;
    for (int j = 0; j < 4; ++j)
      if (BT[t][j] != 0) c = W::BT(t, j) / Rational(BT[t][j]);
    for (int i = 0; i < 2; ++i)
      if (AT[i][t] != 0) a = W::AT(i, t) / Rational(AT[i][t]);
    ASSERT_FALSE(c.is_zero());
    ASSERT_FALSE(a.is_zero());
    for (int j = 0; j < 4; ++j) EXPECT_EQ(W::BT(t, j), c * Rational(BT[t][j])) << t << "," << j;
    for (int i = 0; i < 2; ++i) EXPECT_EQ(W::AT(i, t), a * Rational(AT[i][t])) << i << "," << t;
    for (int j = 0; j < 3; ++j) EXPECT_EQ(W::G(t, j) * c * a, G[t][j]) << t << "," << j;
  }
}

TEST(WinogradTransforms, CookToomIsExactForSeveralTiles) {
  EXPECT_TRUE(sfc::correlates_exactly(Wino2_3::BT, Wino2_3::G,
                                      Wino2_3::AT));
  EXPECT_TRUE(sfc::correlates_exactly(Wino4_3::BT, Wino4_3::G,
                                      Wino4_3::AT));
  EXPECT_TRUE(sfc::correlates_exactly(Wino2_7::BT, Wino2_7::G,
                                      Wino2_7::AT));
  EXPECT_EQ(Wino2_7::T, 8);
  // F(4, 3) data transform rows are integer (the classic 4, -5, 1 row).
  for (const Rational& v : Wino4_3::BT.data) EXPECT_TRUE(v.is_integer());
  EXPECT_EQ(Wino4_3::BT(0, 0), Rational(4));
  EXPECT_EQ(Wino4_3::BT(0, 2), Rational(-5));
}

TEST(Names, AreDerivedFromParameters) {
  EXPECT_EQ(Sfc6_7_3::name(), "sfc6_7_3");
  EXPECT_EQ(Sfc6_7_3::display_name(), "SFC-6(7x7, 3x3)");
  EXPECT_EQ(Wino4_3::name(), "wino4_3");
  EXPECT_EQ(Wino4_3::display_name(), "Winograd F(4x4, 3x3)");
}

}  // namespace
