// Tests for the exact algebra in include/sfc/algebra (Rational, Matrix,
// Polynomial, cyclotomic polynomials) and for CyclicCorrelation<N>, the
// symbolic DFT built on it (include/sfc/transforms/cyclic.hpp).
//
// Three kinds of evidence:
//  - static_asserts: the algebra works in constant expressions, and an
//    evaluation that overflows or divides by zero is *not* a constant
//    expression (ConstantEvaluable below), so it can never yield a wrong
//    compile-time coefficient;
//  - hand-checked values (normalization, known cyclotomic coefficients, the
//    multiplication counts and Karatsuba signs of DESIGN.md 1.2);
//  - identities on random inputs checked against independent formulations
//    (Leibniz determinant, direct cyclic convolution). Random inputs come from
//    std::mt19937 with fixed seeds, reduced by modulo so that the sequences do
//    not depend on the standard library's distributions.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <ostream>
#include <random>
#include <sfc/algebra/cyclotomic.hpp>
#include <sfc/algebra/matrix.hpp>
#include <sfc/algebra/polynomial.hpp>
#include <sfc/algebra/rational.hpp>
#include <sfc/transforms/cyclic.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

// GoogleTest finds these by ADL, so failures print values instead of bytes.
namespace sfc {

void PrintTo(const Rational& r, std::ostream* os) {
  *os << r.num();
  if (r.den() != 1) *os << '/' << r.den();
}

template <class T, int R, int C>
void PrintTo(const Matrix<T, R, C>& m, std::ostream* os) {
  *os << R << 'x' << C << " [";
  for (int r = 0; r < R; ++r) {
    *os << (r == 0 ? "" : "; ");
    for (int c = 0; c < C; ++c) {
      *os << (c == 0 ? "" : " ");
      if constexpr (std::is_same_v<T, Rational>) {
        PrintTo(m(r, c), os);
      } else {
        *os << m(r, c);
      }
    }
  }
  *os << ']';
}

void PrintTo(const Polynomial& p, std::ostream* os) {
  *os << '[';
  for (int i = 0; i <= std::max(p.degree(), 0); ++i) *os << (i == 0 ? "" : ", ") << p[i];
  *os << "] (lowest degree first)";
}

}  // namespace sfc

namespace {

using sfc::Matrix;
using sfc::Polynomial;
using sfc::Rational;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

// ---------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------

/// True when calling a default-constructed F is a constant expression. The
/// call is used as a template argument, so an evaluation that reaches a throw
/// (or a call to a non-constexpr function) is a substitution failure: the
/// concept is false instead of a hard error. Use with a captureless lambda:
///   static_assert(!ConstantEvaluable<decltype([] { return bad(); })>);
template <class F>
concept ConstantEvaluable = requires {
  typename std::bool_constant<(static_cast<void>(F{}()), true)>;
};

/// Uniform-ish integer in [lo, hi] from a fixed-seed engine (modulo bias is
/// irrelevant here; portability of the sequence is not).
std::int64_t uniform(std::mt19937& rng, std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(rng() % static_cast<std::uint32_t>(hi - lo + 1));
}

Rational random_rational(std::mt19937& rng) {
  return Rational(uniform(rng, -20, 20), uniform(rng, 1, 12));
}

template <int N>
Matrix<Rational, N, N> random_integer_matrix(std::mt19937& rng, std::int64_t lo, std::int64_t hi) {
  Matrix<Rational, N, N> m;
  for (Rational& v : m.data) v = uniform(rng, lo, hi);
  return m;
}

/// Determinant by the Leibniz formula (sum over all permutations): slow, but
/// shares nothing with the Gauss-Jordan elimination under test.
template <int N>
Rational leibniz_determinant(const Matrix<Rational, N, N>& m) {
  std::array<int, N> perm{};
  std::iota(perm.begin(), perm.end(), 0);
  Rational det;
  do {
    int inversions = 0;
    for (int i = 0; i < N; ++i)
      for (int j = i + 1; j < N; ++j)
        inversions += perm[static_cast<std::size_t>(i)] > perm[static_cast<std::size_t>(j)];
    Rational term = inversions % 2 == 0 ? 1 : -1;
    for (int i = 0; i < N; ++i) term *= m(i, perm[static_cast<std::size_t>(i)]);
    det += term;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return det;
}

Polynomial random_polynomial(std::mt19937& rng, int degree, std::int64_t lo, std::int64_t hi) {
  Polynomial p;
  for (int i = 0; i <= degree; ++i) p.set(i, uniform(rng, lo, hi));
  return p;
}

constexpr Polynomial from_coefficients(std::initializer_list<std::int64_t> lowest_first) {
  Polynomial p;
  int i = 0;
  for (const std::int64_t c : lowest_first) p.set(i++, c);
  return p;
}

/// z^n - 1.
constexpr Polynomial z_pow_minus_one(int n) {
  return Polynomial::monomial(1, n) - Polynomial::monomial(1, 0);
}

int euler_phi(int n) {
  int count = 0;
  for (int k = 1; k <= n; ++k) count += std::gcd(k, n) == 1 ? 1 : 0;
  return count;
}

// ---------------------------------------------------------------------------
// Rational: compile time.
// ---------------------------------------------------------------------------

static_assert(Rational(6, -4) == Rational(-3, 2));
static_assert(Rational(6, -4).num() == -3 && Rational(6, -4).den() == 2);
static_assert(Rational(0, -7).num() == 0 && Rational(0, -7).den() == 1);
static_assert(Rational().is_zero() && Rational().den() == 1);
static_assert(Rational(1, 2) + Rational(1, 3) == Rational(5, 6));
static_assert(Rational(1, 2) - Rational(1, 3) == Rational(1, 6));
static_assert(Rational(2, 3) * Rational(9, 4) == Rational(3, 2));
static_assert(Rational(2, 3) / Rational(4, 9) == Rational(3, 2));
static_assert(-Rational(1, 2) < Rational(1, 3) && Rational(1, 3) < Rational(1, 2));
static_assert(Rational(1, 3) <= Rational(2, 6) && Rational(1, 3) >= Rational(2, 6));
static_assert(Rational(7, 2).reciprocal() == Rational(2, 7));
static_assert(Rational(-7, 2).abs() == Rational(7, 2));
static_assert(Rational(3, 4).to_double() == 0.75);
// Cross-reduction keeps products of large normalized fractions exact.
static_assert(Rational(kInt64Max, 2) * Rational(2, kInt64Max) == 1);

// The compile-time overflow check: overflow, a zero denominator and the
// negation of INT64_MIN are not constant expressions, so no constexpr
// coefficient can ever be computed from a wrapped value.
static_assert(ConstantEvaluable<decltype([] { return Rational(kInt64Max - 1) + 1; })>,
              "control: an in-range sum must be a constant expression");
static_assert(!ConstantEvaluable<decltype([] { return Rational(kInt64Max) + 1; })>);
static_assert(!ConstantEvaluable<decltype([] { return Rational(kInt64Min) - 1; })>);
static_assert(!ConstantEvaluable<decltype([] { return Rational(1LL << 32) * (1LL << 32); })>);
static_assert(!ConstantEvaluable<decltype([] { return -Rational(kInt64Min); })>);
static_assert(!ConstantEvaluable<decltype([] { return Rational(1, 0); })>);
static_assert(!ConstantEvaluable<decltype([] { return Rational(1, 2) / Rational(0); })>);

// ---------------------------------------------------------------------------
// Rational: run time.
// ---------------------------------------------------------------------------

TEST(Rational, NormalizesSignAndCommonFactors) {
  const Rational a(6, -4);
  EXPECT_EQ(a.num(), -3);
  EXPECT_EQ(a.den(), 2);
  EXPECT_EQ(a, Rational(-3, 2));

  const Rational b(-6, -4);
  EXPECT_EQ(b.num(), 3);
  EXPECT_EQ(b.den(), 2);

  const Rational zero(0, -5);
  EXPECT_EQ(zero.num(), 0);
  EXPECT_EQ(zero.den(), 1);
  EXPECT_EQ(zero, Rational());
  EXPECT_TRUE(zero.is_zero());

  EXPECT_TRUE(Rational(12, 4).is_integer());
  EXPECT_EQ(Rational(12, 4), Rational(3));
  EXPECT_FALSE(Rational(12, 8).is_integer());
  EXPECT_EQ(Rational(kInt64Max, kInt64Max), Rational(1));
  EXPECT_EQ(Rational(7).den(), 1);
}

TEST(Rational, Arithmetic) {
  EXPECT_EQ(Rational(1, 2) + Rational(1, 3), Rational(5, 6));
  EXPECT_EQ(Rational(1, 2) - Rational(1, 3), Rational(1, 6));
  EXPECT_EQ(Rational(1, 6) + Rational(1, 3), Rational(1, 2));  // result renormalized
  EXPECT_EQ(Rational(2, 3) * Rational(9, 4), Rational(3, 2));
  EXPECT_EQ(Rational(2, 3) / Rational(4, 9), Rational(3, 2));
  EXPECT_EQ(Rational(-2, 3) / Rational(-4, 9), Rational(3, 2));
  EXPECT_EQ(Rational(5, 7) * Rational(0), Rational(0));
  EXPECT_EQ((Rational(5, 7) * Rational(0)).den(), 1);
  EXPECT_EQ(-Rational(3, 5), Rational(-3, 5));
  EXPECT_EQ(Rational(-3, 5).abs(), Rational(3, 5));
  EXPECT_EQ(Rational(3, 5).abs(), Rational(3, 5));
  EXPECT_EQ(Rational(-3, 5).reciprocal(), Rational(-5, 3));
  EXPECT_EQ(Rational(1, 2) + 1, Rational(3, 2));  // implicit conversion from integers

  Rational r(1, 2);
  r += Rational(1, 4);
  EXPECT_EQ(r, Rational(3, 4));
  r -= Rational(1);
  EXPECT_EQ(r, Rational(-1, 4));
  r *= Rational(-8);
  EXPECT_EQ(r, Rational(2));
  r /= Rational(3);
  EXPECT_EQ(r, Rational(2, 3));
}

TEST(Rational, FieldIdentitiesOnRandomValues) {
  std::mt19937 rng(20240611);
  for (int iter = 0; iter < 2000; ++iter) {
    const Rational a = random_rational(rng);
    const Rational b = random_rational(rng);
    const Rational c = random_rational(rng);
    SCOPED_TRACE(::testing::Message()
                 << "iteration " << iter << ": a = " << ::testing::PrintToString(a) << ", b = "
                 << ::testing::PrintToString(b) << ", c = " << ::testing::PrintToString(c));
    EXPECT_EQ(a + b, b + a);
    EXPECT_EQ(a * b, b * a);
    EXPECT_EQ((a + b) - b, a);
    EXPECT_EQ((a + b) + c, a + (b + c));
    EXPECT_EQ(a * (b + c), a * b + a * c);
    EXPECT_EQ(a - a, Rational(0));
    if (!b.is_zero()) {
      EXPECT_EQ((a * b) / b, a);
      EXPECT_EQ(b * b.reciprocal(), Rational(1));
    }
    // Results stay normalized: positive denominator, no common factor.
    const Rational s = a * b + c;
    EXPECT_GT(s.den(), 0);
    EXPECT_EQ(std::gcd(s.num(), s.den()), 1);
    // The order agrees with the order of the exact cross products.
    const bool less = a.num() * b.den() < b.num() * a.den();
    EXPECT_EQ(a < b, less);
    EXPECT_EQ(b > a, less);
    EXPECT_EQ(a >= b, !less);
    EXPECT_EQ(b <= a, !less);
    EXPECT_EQ(a == b, a.num() * b.den() == b.num() * a.den());
  }
}

TEST(Rational, Comparisons) {
  EXPECT_LT(Rational(-1, 2), Rational(1, 3));
  EXPECT_LT(Rational(1, 3), Rational(1, 2));
  EXPECT_LT(Rational(-1, 2), Rational(-1, 3));
  EXPECT_GT(Rational(2), Rational(3, 2));
  EXPECT_LE(Rational(2, 4), Rational(1, 2));
  EXPECT_GE(Rational(2, 4), Rational(1, 2));
  EXPECT_NE(Rational(1, 3), Rational(1, 2));
  EXPECT_FALSE(Rational(1, 2) < Rational(1, 2));
  EXPECT_FALSE(Rational(1, 2) > Rational(1, 2));
}

TEST(Rational, ToDouble) {
  EXPECT_EQ(Rational(1, 4).to_double(), 0.25);
  EXPECT_EQ(Rational(6, -4).to_double(), -1.5);
  EXPECT_EQ(Rational(0, 9).to_double(), 0.0);
  EXPECT_EQ(Rational(1LL << 52).to_double(), 4503599627370496.0);
  EXPECT_DOUBLE_EQ(Rational(1, 3).to_double(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(Rational(-22, 7).to_double(), -22.0 / 7.0);
}

TEST(Rational, LargeValuesThatFitStayExact) {
  // Cross-reduction: neither operand's numerator times the other's fits, but
  // the reduced product does.
  EXPECT_EQ(Rational(kInt64Max, 2) * Rational(2, kInt64Max), Rational(1));
  EXPECT_EQ(Rational(kInt64Max) * Rational(1, kInt64Max), Rational(1));
  EXPECT_EQ(Rational(1LL << 62, 3) * Rational(3, 1LL << 61), Rational(2));
  // A common denominator is used for sums, not the product of denominators.
  EXPECT_EQ(Rational(1, 1LL << 62) + Rational(1, 1LL << 62), Rational(1, 1LL << 61));
  EXPECT_EQ(Rational(kInt64Max - 1) + 1, Rational(kInt64Max));
  EXPECT_EQ(Rational(kInt64Max) + Rational(-kInt64Max), Rational(0));
}

TEST(Rational, OverflowThrowsAtRunTime) {
  EXPECT_THROW(Rational(kInt64Max) + 1, std::overflow_error);
  EXPECT_THROW(Rational(kInt64Max) + Rational(1, 2), std::overflow_error);
  EXPECT_THROW(Rational(kInt64Min) - 1, std::overflow_error);
  EXPECT_THROW(Rational(kInt64Max) * 2, std::overflow_error);
  EXPECT_THROW(Rational(1LL << 32) * Rational(1LL << 32), std::overflow_error);
  EXPECT_THROW(Rational(3'037'000'500) * Rational(3'037'000'500), std::overflow_error);
  EXPECT_THROW(Rational(1, 1LL << 32) * Rational(1, 1LL << 32), std::overflow_error);
  // Coprime large denominators: their least common multiple does not fit.
  EXPECT_THROW(Rational(1, kInt64Max) + Rational(1, kInt64Max - 1), std::overflow_error);
  EXPECT_THROW(Rational(kInt64Max) / Rational(1, 2), std::overflow_error);
  EXPECT_THROW(-Rational(kInt64Min), std::overflow_error);
  EXPECT_THROW(Rational(1, kInt64Min), std::overflow_error);  // -INT64_MIN while normalizing

  // Repeated squaring overflows after a few steps instead of wrapping.
  Rational r(3, 2);
  EXPECT_THROW(
      {
        for (int i = 0; i < 10; ++i) r *= r;
      },
      std::overflow_error);
}

TEST(Rational, ZeroDenominatorThrows) {
  EXPECT_THROW(Rational(1, 0), std::domain_error);
  EXPECT_THROW(Rational(0, 0), std::domain_error);
  EXPECT_THROW(Rational(0).reciprocal(), std::domain_error);
  EXPECT_THROW(Rational(3, 4) / Rational(0), std::domain_error);
  Rational r(5);
  EXPECT_THROW(r /= Rational(0, 3), std::domain_error);
}

// ---------------------------------------------------------------------------
// Matrix.
// ---------------------------------------------------------------------------

constexpr Matrix<int, 2, 3> kA23{{1, 2, 3, 4, 5, 6}};
constexpr Matrix<int, 3, 2> kB32{{7, 8, 9, 10, 11, 12}};

static_assert(kA23 * kB32 == Matrix<int, 2, 2>{{58, 64, 139, 154}});
static_assert(kA23.transpose() == Matrix<int, 3, 2>{{1, 4, 2, 5, 3, 6}});
static_assert(kA23.transpose().transpose() == kA23);
static_assert(sfc::identity<int, 3>() == Matrix<int, 3, 3>{{1, 0, 0, 0, 1, 0, 0, 0, 1}});
static_assert(sfc::kron(sfc::identity<int, 2>(), sfc::identity<int, 3>()) ==
              sfc::identity<int, 6>());
static_assert(sfc::inverse(Matrix<Rational, 2, 2>{{2, 1, 1, 1}}) ==
              Matrix<Rational, 2, 2>{{1, -1, -1, 2}});
static_assert(sfc::inverse(Matrix<Rational, 2, 2>{{0, 2, 4, 0}}) ==  // needs a row swap
              Matrix<Rational, 2, 2>{{0, Rational(1, 4), Rational(1, 2), 0}});
static_assert(sfc::max_row_l1(Matrix<int, 2, 3>{{1, -2, 3, -4, 0, 1}}) == 6);
static_assert(sfc::is_ternary(Matrix<int, 1, 3>{{1, 0, -1}}));
static_assert(!sfc::is_ternary(Matrix<int, 1, 3>{{1, 2, -1}}));
static_assert(sfc::common_denominator(Matrix<Rational, 1, 3>{
                  {Rational(1, 4), Rational(5, 6), 7}}) == 12);
static_assert(!ConstantEvaluable<decltype([] {
  return sfc::inverse(Matrix<Rational, 2, 2>{{1, 2, 2, 4}});
})>);

TEST(Matrix, MultiplyTransposeIdentity) {
  EXPECT_EQ(kA23 * kB32, (Matrix<int, 2, 2>{{58, 64, 139, 154}}));
  EXPECT_EQ(kB32 * kA23, (Matrix<int, 3, 3>{{39, 54, 69, 49, 68, 87, 59, 82, 105}}));
  EXPECT_EQ(kA23.transpose(), (Matrix<int, 3, 2>{{1, 4, 2, 5, 3, 6}}));
  EXPECT_EQ((sfc::identity<int, 2>() * kA23), kA23);
  EXPECT_EQ((kA23 * sfc::identity<int, 3>()), kA23);
  EXPECT_EQ(kA23(1, 2), 6);
  EXPECT_EQ((Matrix<int, 2, 3>::rows), 2);
  EXPECT_EQ((Matrix<int, 2, 3>::cols), 3);

  std::mt19937 rng(7);
  for (int iter = 0; iter < 50; ++iter) {
    const auto x = random_integer_matrix<4>(rng, -5, 5);
    const auto y = random_integer_matrix<4>(rng, -5, 5);
    const auto z = random_integer_matrix<4>(rng, -5, 5);
    EXPECT_EQ((x * y).transpose(), y.transpose() * x.transpose());
    EXPECT_EQ((x * y) * z, x * (y * z));
  }
}

TEST(Matrix, Kron) {
  const Matrix<int, 2, 2> x{{1, 2, 3, 4}};
  const Matrix<int, 2, 3> y{{0, 5, -1, 6, 7, 2}};
  const auto k = sfc::kron(x, y);
  static_assert(std::is_same_v<decltype(k), const Matrix<int, 4, 6>>);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 3; ++c)
          EXPECT_EQ(k(i * 2 + r, j * 3 + c), x(i, j) * y(r, c))
              << "i=" << i << " j=" << j << " r=" << r << " c=" << c;

  // Mixed-product property (A (x) B)(C (x) D) = (AC) (x) (BD), which the 2D
  // nested form relies on.
  std::mt19937 rng(11);
  for (int iter = 0; iter < 20; ++iter) {
    const auto a = random_integer_matrix<2>(rng, -4, 4);
    const auto b = random_integer_matrix<3>(rng, -4, 4);
    const auto c = random_integer_matrix<2>(rng, -4, 4);
    const auto d = random_integer_matrix<3>(rng, -4, 4);
    EXPECT_EQ(sfc::kron(a, b) * sfc::kron(c, d), sfc::kron(a * c, b * d));
    EXPECT_EQ(sfc::kron(a, b).transpose(), sfc::kron(a.transpose(), b.transpose()));
  }
}

TEST(Matrix, InverseOfRandomIntegerMatricesIsExact) {
  std::mt19937 rng(12345);
  int nonsingular = 0;
  int singular = 0;
  const auto eye = sfc::identity<Rational, 5>();
  for (int iter = 0; iter < 300; ++iter) {
    // Entries in [-1, 1] give a useful share of singular matrices.
    const auto a = random_integer_matrix<5>(rng, -1, 1);
    SCOPED_TRACE(::testing::Message()
                 << "iteration " << iter << ", A = " << ::testing::PrintToString(a));
    const Rational det = leibniz_determinant(a);
    if (det.is_zero()) {
      ++singular;
      EXPECT_THROW(sfc::inverse(a), std::domain_error);
      continue;
    }
    ++nonsingular;
    const auto inv = sfc::inverse(a);
    EXPECT_EQ(a * inv, eye);
    EXPECT_EQ(inv * a, eye);
    EXPECT_EQ(sfc::inverse(inv), a);
    // Cramer: every entry of the inverse is an integer cofactor over det.
    EXPECT_EQ(det.den(), 1);
    EXPECT_EQ(det.num() % sfc::common_denominator(inv), 0);
  }
  EXPECT_GT(nonsingular, 100);
  EXPECT_GT(singular, 10);

  for (int iter = 0; iter < 100; ++iter) {
    const auto a = random_integer_matrix<5>(rng, -9, 9);
    SCOPED_TRACE(::testing::Message() << "wide entries, iteration " << iter);
    if (leibniz_determinant(a).is_zero()) continue;
    const auto inv = sfc::inverse(a);
    EXPECT_EQ(a * inv, eye);
  }
}

TEST(Matrix, SingularInverseThrows) {
  EXPECT_THROW(sfc::inverse(Matrix<Rational, 3, 3>{}), std::domain_error);
  EXPECT_THROW(sfc::inverse(Matrix<Rational, 2, 2>{{1, 2, 2, 4}}), std::domain_error);
  // Row 2 = row 0 + row 1: singularity shows only after elimination.
  EXPECT_THROW(sfc::inverse(Matrix<Rational, 3, 3>{{1, 2, 3, 0, 1, 4, 1, 3, 7}}),
               std::domain_error);
  // A zero column.
  EXPECT_THROW(sfc::inverse(Matrix<Rational, 3, 3>{{1, 0, 3, 4, 0, 6, 7, 0, 9}}),
               std::domain_error);
  EXPECT_EQ(sfc::inverse(Matrix<Rational, 1, 1>{{Rational(-2, 3)}}),
            (Matrix<Rational, 1, 1>{{Rational(-3, 2)}}));
}

TEST(Matrix, MaxRowL1) {
  EXPECT_EQ(sfc::max_row_l1(Matrix<int, 2, 3>{{1, -2, 3, -4, 0, 1}}), 6);
  EXPECT_EQ(sfc::max_row_l1(Matrix<int, 2, 3>{{1, -2, 3, -4, 0, -5}}), 9);
  EXPECT_EQ(sfc::max_row_l1(Matrix<Rational, 2, 2>{{Rational(1, 2), Rational(-1, 3), 1, 0}}),
            Rational(1));
  EXPECT_EQ(sfc::max_row_l1(Matrix<Rational, 2, 2>{{Rational(1, 2), Rational(-2, 3), 1, 0}}),
            Rational(7, 6));
  EXPECT_EQ(sfc::max_row_l1(Matrix<int, 3, 3>{}), 0);
  EXPECT_EQ(sfc::max_row_l1(sfc::identity<Rational, 4>()), Rational(1));
  EXPECT_EQ(sfc::abs_value(-3), 3);
  EXPECT_EQ(sfc::abs_value(Rational(-3, 4)), Rational(3, 4));
}

TEST(Matrix, IsTernary) {
  EXPECT_TRUE(sfc::is_ternary(sfc::identity<Rational, 3>()));
  EXPECT_TRUE(sfc::is_ternary(Matrix<Rational, 1, 4>{{0, 1, -1, 0}}));
  EXPECT_TRUE(sfc::is_ternary(Matrix<int, 2, 2>{}));
  EXPECT_FALSE(sfc::is_ternary(Matrix<Rational, 1, 3>{{1, 2, -1}}));
  EXPECT_FALSE(sfc::is_ternary(Matrix<Rational, 1, 3>{{1, -2, -1}}));
  EXPECT_FALSE(sfc::is_ternary(Matrix<Rational, 1, 3>{{1, Rational(1, 2), -1}}));
  EXPECT_FALSE(sfc::is_ternary(Matrix<int, 1, 2>{{0, -3}}));
}

TEST(Matrix, CommonDenominator) {
  EXPECT_EQ(sfc::common_denominator(
                Matrix<Rational, 2, 2>{{Rational(1, 2), Rational(1, 3), Rational(-1, 4), 5}}),
            12);
  EXPECT_EQ(sfc::common_denominator(Matrix<Rational, 2, 2>{{1, -2, 3, 0}}), 1);
  EXPECT_EQ(sfc::common_denominator(Matrix<Rational, 2, 2>{}), 1);
  EXPECT_EQ(sfc::common_denominator(
                Matrix<Rational, 1, 3>{{Rational(1, 6), Rational(5, 6), Rational(-1, 36)}}),
            36);
  // Scaling by the common denominator makes the matrix integer.
  const Matrix<Rational, 1, 3> m{{Rational(3, 4), Rational(-5, 6), Rational(7, 9)}};
  const std::int64_t d = sfc::common_denominator(m);
  EXPECT_EQ(d, 36);
  for (const Rational& v : m.data) EXPECT_TRUE((v * d).is_integer());
}

// ---------------------------------------------------------------------------
// Polynomial.
// ---------------------------------------------------------------------------

static_assert(Polynomial().degree() == -1);
static_assert(Polynomial::monomial(3, 5).degree() == 5 && Polynomial::monomial(3, 5)[5] == 3);
static_assert(from_coefficients({1, 1}) * from_coefficients({-1, 1}) ==
              from_coefficients({-1, 0, 1}));
static_assert(from_coefficients({5, 0, 0, 1}).mod(from_coefficients({1, 1})) ==
              from_coefficients({4}));
static_assert(
    !ConstantEvaluable<decltype([] { return Polynomial::monomial(1, Polynomial::capacity); })>);
static_assert(!ConstantEvaluable<decltype([] {
  return Polynomial::monomial(1, 32) * Polynomial::monomial(1, 32);
})>);

TEST(Polynomial, BasicsAndCapacity) {
  Polynomial p;
  EXPECT_EQ(p.degree(), -1);
  EXPECT_FALSE(p.is_monic());
  p.set(3, 2);
  p.set(1, -1);
  EXPECT_EQ(p.degree(), 3);
  EXPECT_EQ(p[3], 2);
  EXPECT_EQ(p[1], -1);
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[-1], 0);
  EXPECT_EQ(p[Polynomial::capacity], 0);
  EXPECT_FALSE(p.is_monic());
  p.set(3, 1);
  EXPECT_TRUE(p.is_monic());
  p.set(3, 0);  // degree drops when the leading coefficient is cleared
  EXPECT_EQ(p.degree(), 1);

  EXPECT_EQ(Polynomial::monomial(1, Polynomial::capacity - 1).degree(), Polynomial::capacity - 1);
  EXPECT_THROW(Polynomial::monomial(1, Polynomial::capacity), std::length_error);
  EXPECT_THROW(p.set(-1, 1), std::length_error);
  EXPECT_THROW(p.set(Polynomial::capacity, 1), std::length_error);
  // Products whose degree exceeds the capacity throw instead of truncating.
  constexpr int half = Polynomial::capacity / 2;
  EXPECT_EQ((Polynomial::monomial(1, half - 1) * Polynomial::monomial(1, half)).degree(),
            Polynomial::capacity - 1);
  EXPECT_THROW(Polynomial::monomial(1, half) * Polynomial::monomial(1, half), std::length_error);
  EXPECT_THROW(z_pow_minus_one(half + 4) * z_pow_minus_one(half - 2), std::length_error);
}

TEST(Polynomial, Arithmetic) {
  const Polynomial a = from_coefficients({1, 2, 3});   // 3z^2 + 2z + 1
  const Polynomial b = from_coefficients({-1, 0, 1});  // z^2 - 1
  EXPECT_EQ(a + b, from_coefficients({0, 2, 4}));
  EXPECT_EQ(a - b, from_coefficients({2, 2, 2}));
  EXPECT_EQ(-a, from_coefficients({-1, -2, -3}));
  EXPECT_EQ(a * b, from_coefficients({-1, -2, -2, 2, 3}));
  EXPECT_EQ(a * Polynomial(), Polynomial());
  EXPECT_EQ((a - a).degree(), -1);

  EXPECT_THROW(Polynomial::monomial(kInt64Max, 2) + Polynomial::monomial(1, 2),
               std::overflow_error);
  EXPECT_THROW(Polynomial::monomial(1LL << 32, 0) * Polynomial::monomial(1LL << 32, 1),
               std::overflow_error);
  EXPECT_THROW(-Polynomial::monomial(kInt64Min, 0), std::overflow_error);

  std::mt19937 rng(99);
  for (int iter = 0; iter < 200; ++iter) {
    const Polynomial x = random_polynomial(rng, static_cast<int>(uniform(rng, 0, 10)), -9, 9);
    const Polynomial y = random_polynomial(rng, static_cast<int>(uniform(rng, 0, 10)), -9, 9);
    const Polynomial z = random_polynomial(rng, static_cast<int>(uniform(rng, 0, 10)), -9, 9);
    EXPECT_EQ(x * y, y * x);
    EXPECT_EQ(x * (y + z), x * y + x * z);
    EXPECT_EQ((x * y) * z, x * (y * z));
    if (x.degree() >= 0 && y.degree() >= 0) {
      EXPECT_EQ((x * y).degree(), x.degree() + y.degree());
    }
  }
}

TEST(Polynomial, DivmodReconstructsTheDividend) {
  std::mt19937 rng(4242);
  for (int iter = 0; iter < 500; ++iter) {
    const int dm = static_cast<int>(uniform(rng, 0, 6));
    Polynomial m = random_polynomial(rng, dm, -2, 2);
    m.set(dm, 1);  // monic
    const Polynomial a = random_polynomial(rng, static_cast<int>(uniform(rng, 0, 20)), -9, 9);
    SCOPED_TRACE(::testing::Message()
                 << "iteration " << iter << ": a = " << ::testing::PrintToString(a)
                 << ", m = " << ::testing::PrintToString(m));
    const auto [q, r] = a.divmod(m);
    EXPECT_EQ(q * m + r, a);
    EXPECT_LT(r.degree(), m.degree());
    EXPECT_EQ(a.mod(m), r);
    // The quotient is unique: a multiple of m plus r has the same remainder.
    const Polynomial shift = random_polynomial(rng, 4, -3, 3);
    EXPECT_EQ((a + shift * m).mod(m), r);
  }
}

TEST(Polynomial, DivmodKnownValuesAndErrors) {
  // z^5 + 1 = (z + 1)(z^4 - z^3 + z^2 - z + 1).
  const auto qr = from_coefficients({1, 0, 0, 0, 0, 1}).divmod(from_coefficients({1, 1}));
  EXPECT_EQ(qr.quotient, from_coefficients({1, -1, 1, -1, 1}));
  EXPECT_EQ(qr.remainder.degree(), -1);
  // z^2 mod (z^2 - z + 1) = z - 1: the Phi_6 rule s^2 = s - 1 of DESIGN.md 1.2.
  EXPECT_EQ(Polynomial::monomial(1, 2).mod(sfc::cyclotomic(6)), from_coefficients({-1, 1}));
  // z^2 mod (z^2 + z + 1) = -z - 1 (Phi_3).
  EXPECT_EQ(Polynomial::monomial(1, 2).mod(sfc::cyclotomic(3)), from_coefficients({-1, -1}));
  // A lower-degree dividend is its own remainder.
  EXPECT_EQ(from_coefficients({3, 4}).mod(from_coefficients({1, 0, 1})), from_coefficients({3, 4}));
  // Division by the constant 1.
  EXPECT_EQ(from_coefficients({3, 4}).divmod(from_coefficients({1})).quotient,
            from_coefficients({3, 4}));

  EXPECT_THROW(from_coefficients({1, 2}).divmod(from_coefficients({1, 2})), std::domain_error);
  EXPECT_THROW(from_coefficients({1, 2}).mod(Polynomial()), std::domain_error);
  EXPECT_THROW(from_coefficients({1, 2}).mod(from_coefficients({0, -1})), std::domain_error);
}

// ---------------------------------------------------------------------------
// Cyclotomic polynomials and divisors.
// ---------------------------------------------------------------------------

static_assert(sfc::cyclotomic(1) == from_coefficients({-1, 1}));
static_assert(sfc::cyclotomic(6) == from_coefficients({1, -1, 1}));
static_assert(sfc::cyclotomic(12) == from_coefficients({1, 0, -1, 0, 1}));
static_assert(sfc::divisor_count(1) == 1 && sfc::divisor_count(12) == 6 &&
              sfc::divisor_count(30) == 8 && sfc::divisor_count(13) == 2);
static_assert(sfc::divisor(12, 0) == 1 && sfc::divisor(12, 4) == 6 && sfc::divisor(12, 5) == 12);
static_assert(!ConstantEvaluable<decltype([] { return sfc::divisor(12, 6); })>);
static_assert(!ConstantEvaluable<decltype([] { return sfc::cyclotomic(0); })>);

TEST(Cyclotomic, KnownCoefficientsUpTo12) {
  // Lowest degree first.
  const std::vector<std::vector<std::int64_t>> expected = {
      {-1, 1},                            // Phi_1  = z - 1
      {1, 1},                             // Phi_2  = z + 1
      {1, 1, 1},                          // Phi_3  = z^2 + z + 1
      {1, 0, 1},                          // Phi_4  = z^2 + 1
      {1, 1, 1, 1, 1},                    // Phi_5
      {1, -1, 1},                         // Phi_6  = z^2 - z + 1
      {1, 1, 1, 1, 1, 1, 1},              // Phi_7
      {1, 0, 0, 0, 1},                    // Phi_8  = z^4 + 1
      {1, 0, 0, 1, 0, 0, 1},              // Phi_9  = z^6 + z^3 + 1
      {1, -1, 1, -1, 1},                  // Phi_10 = z^4 - z^3 + z^2 - z + 1
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // Phi_11
      {1, 0, -1, 0, 1},                   // Phi_12 = z^4 - z^2 + 1
  };
  for (int n = 1; n <= 12; ++n) {
    const auto& coefficients = expected[static_cast<std::size_t>(n - 1)];
    Polynomial want;
    for (std::size_t i = 0; i < coefficients.size(); ++i)
      want.set(static_cast<int>(i), coefficients[i]);
    EXPECT_EQ(sfc::cyclotomic(n), want) << "Phi_" << n;
  }
}

TEST(Cyclotomic, ProductOverDivisorsIsZPowNMinusOne) {
  for (int n = 1; n <= 30; ++n) {
    Polynomial product = Polynomial::monomial(1, 0);
    for (int d = 1; d <= n; ++d)
      if (n % d == 0) product = product * sfc::cyclotomic(d);
    EXPECT_EQ(product, z_pow_minus_one(n)) << "n = " << n;
  }
}

TEST(Cyclotomic, StructuralProperties) {
  // For every n the header accepts: monic, degree Euler phi(n), coefficients
  // in {-1, 0, 1} (true for n < 105), palindromic for n >= 2.
  for (int n = 1; n < Polynomial::capacity; ++n) {
    SCOPED_TRACE(::testing::Message() << "n = " << n);
    const Polynomial phi = sfc::cyclotomic(n);
    EXPECT_TRUE(phi.is_monic());
    EXPECT_EQ(phi.degree(), euler_phi(n));
    for (int i = 0; i <= phi.degree(); ++i) {
      EXPECT_LE(sfc::abs_value(phi[i]), 1) << "coefficient " << i;
      if (n >= 2) {
        EXPECT_EQ(phi[i], phi[phi.degree() - i]) << "coefficient " << i;
      }
    }
  }
  EXPECT_THROW(sfc::cyclotomic(0), std::domain_error);
  EXPECT_THROW(sfc::cyclotomic(-3), std::domain_error);
  EXPECT_THROW(sfc::cyclotomic(Polynomial::capacity), std::domain_error);
}

TEST(Divisors, CountAndEnumeration) {
  for (int n = 1; n <= 60; ++n) {
    std::vector<int> want;
    for (int d = 1; d <= n; ++d)
      if (n % d == 0) want.push_back(d);
    ASSERT_EQ(sfc::divisor_count(n), static_cast<int>(want.size())) << "n = " << n;
    for (int i = 0; i < sfc::divisor_count(n); ++i)
      EXPECT_EQ(sfc::divisor(n, i), want[static_cast<std::size_t>(i)])
          << "n = " << n << ", i = " << i;
    EXPECT_THROW(sfc::divisor(n, sfc::divisor_count(n)), std::out_of_range) << "n = " << n;
  }
  EXPECT_EQ(sfc::divisor_count(12), 6);
  EXPECT_EQ(sfc::divisor(12, 3), 4);
}

// ---------------------------------------------------------------------------
// CyclicCorrelation<N>: one typed suite over every supported length.
// ---------------------------------------------------------------------------

static_assert(sfc::SymbolicFourierLength<6> && !sfc::SymbolicFourierLength<5> &&
              !sfc::SymbolicFourierLength<0> && !sfc::SymbolicFourierLength<-6>);
static_assert(sfc::CyclicCorrelation<6>::products == 8);
static_assert(sfc::is_ternary(sfc::CyclicCorrelation<6>::residues));

template <class NConstant>
class CyclicCorrelationTest : public ::testing::Test {
 protected:
  static constexpr int N = NConstant::value;
  using Cyclic = sfc::CyclicCorrelation<N>;
};

using CyclicLengths =
    ::testing::Types<std::integral_constant<int, 2>, std::integral_constant<int, 3>,
                     std::integral_constant<int, 4>, std::integral_constant<int, 6>,
                     std::integral_constant<int, 8>, std::integral_constant<int, 12>>;

struct CyclicLengthName {
  template <class NConstant>
  static std::string GetName(int /*index*/) {
    return "N" + std::to_string(NConstant::value);
  }
};

TYPED_TEST_SUITE(CyclicCorrelationTest, CyclicLengths, CyclicLengthName);

TYPED_TEST(CyclicCorrelationTest, ResiduesAreTernaryAndInvertible) {
  using Cyclic = typename TestFixture::Cyclic;
  constexpr int N = TestFixture::N;
  EXPECT_EQ(Cyclic::length, N);
  EXPECT_TRUE(sfc::is_ternary(Cyclic::residues)) << ::testing::PrintToString(Cyclic::residues);
  const auto eye = sfc::identity<Rational, N>();
  EXPECT_EQ(Cyclic::residues * Cyclic::residues_inverse, eye);
  EXPECT_EQ(Cyclic::residues_inverse * Cyclic::residues, eye);
  // DESIGN.md 1.2: the inverse CRT has denominator N.
  EXPECT_EQ(sfc::common_denominator(Cyclic::residues_inverse), N);
}

TYPED_TEST(CyclicCorrelationTest, ResiduesAreCoefficientsOfPowersModuloPhi) {
  using Cyclic = typename TestFixture::Cyclic;
  constexpr int N = TestFixture::N;
  for (const sfc::MultBlock& b : Cyclic::blocks) {
    const Polynomial phi = sfc::cyclotomic(b.factor);
    for (int t = 0; t < N; ++t) {
      const Polynomial residue = Polynomial::monomial(1, t).mod(phi);
      for (int c = 0; c < b.size; ++c)
        EXPECT_EQ(Cyclic::residues(b.offset + c, t), Rational(residue[c]))
            << "Phi_" << b.factor << ", z^" << t << ", coefficient " << c;
    }
  }
}

TYPED_TEST(CyclicCorrelationTest, BlocksFollowTheDivisorsOfN) {
  using Cyclic = typename TestFixture::Cyclic;
  constexpr int N = TestFixture::N;
  ASSERT_EQ(Cyclic::num_factors, sfc::divisor_count(N));
  int offset = 0;
  int product = 0;
  for (int i = 0; i < Cyclic::num_factors; ++i) {
    const sfc::MultBlock& b = Cyclic::blocks[static_cast<std::size_t>(i)];
    SCOPED_TRACE(::testing::Message() << "block " << i << " (Phi_" << b.factor << ")");
    EXPECT_EQ(b.factor, sfc::divisor(N, i));
    EXPECT_EQ(b.size, sfc::cyclotomic(b.factor).degree());
    EXPECT_EQ(b.offset, offset);
    EXPECT_EQ(b.first_product, product);
    // One product for a linear factor, Karatsuba (3) for a quadratic one,
    // two-level Karatsuba (9) for a quartic one.
    EXPECT_EQ(b.products, b.size == 1 ? 1 : b.size == 2 ? 3 : 9);
    offset += b.size;
    product += b.products;
  }
  EXPECT_EQ(offset, N);
  EXPECT_EQ(product, Cyclic::products);
}

TYPED_TEST(CyclicCorrelationTest, ProductCountsMatchDesign) {
  constexpr int N = TestFixture::N;
  // DESIGN.md 1.2.
  const int expected = N == 2 ? 2 : N == 3 ? 4 : N == 4 ? 5 : N == 6 ? 8 : N == 8 ? 14 : 20;
  EXPECT_EQ(TestFixture::Cyclic::products, expected);
}

TYPED_TEST(CyclicCorrelationTest, KaratsubaSignsMatchDesign) {
  // DESIGN.md 1.2: s = -1 for Phi_3, s = +1 for Phi_4 and Phi_6, whatever N
  // the factor appears in.
  for (const sfc::MultBlock& b : TestFixture::Cyclic::blocks) {
    SCOPED_TRACE(::testing::Message() << "Phi_" << b.factor);
    if (b.size == 1) {
      EXPECT_EQ(b.num_signs, 0);
    } else if (b.size == 2) {
      ASSERT_EQ(b.num_signs, 1);
      EXPECT_EQ(b.signs[0], b.factor == 3 ? -1 : +1);
    } else {
      EXPECT_EQ(b.num_signs, 4);
    }
  }
}

TYPED_TEST(CyclicCorrelationTest, BlocksComputeCyclicConvolutionExactly) {
  // Residues, block products (forms), block reconstruction (recon) and the
  // inverse CRT together compute the product X(z) U(z) mod z^N - 1, compared
  // with the direct cyclic convolution.
  using Cyclic = typename TestFixture::Cyclic;
  constexpr int N = TestFixture::N;
  std::mt19937 rng(static_cast<std::uint32_t>(1000 + N));
  for (int iter = 0; iter < 100; ++iter) {
    Matrix<Rational, N, 1> x;
    Matrix<Rational, N, 1> u;
    for (int t = 0; t < N; ++t) {
      x(t, 0) = uniform(rng, -128, 127);
      u(t, 0) = uniform(rng, -128, 127);
    }
    const auto rx = Cyclic::residues * x;
    const auto ru = Cyclic::residues * u;
    Matrix<Rational, N, 1> r;
    for (const sfc::MultBlock& b : Cyclic::blocks) {
      for (int p = 0; p < b.products; ++p) {
        Rational fx;
        Rational fu;
        for (int c = 0; c < b.size; ++c) {
          const int f = b.forms[static_cast<std::size_t>(p)][static_cast<std::size_t>(c)];
          fx += f * rx(b.offset + c, 0);
          fu += f * ru(b.offset + c, 0);
        }
        const Rational m = fx * fu;
        for (int c = 0; c < b.size; ++c)
          r(b.offset + c, 0) +=
              b.recon[static_cast<std::size_t>(c)][static_cast<std::size_t>(p)] * m;
      }
    }
    const auto y = Cyclic::residues_inverse * r;
    for (int j = 0; j < N; ++j) {
      Rational want;
      for (int t = 0; t < N; ++t) want += x(t, 0) * u((j - t + N) % N, 0);
      EXPECT_EQ(y(j, 0), want) << "N = " << N << ", iteration " << iter << ", output " << j;
    }
  }
}

}  // namespace
