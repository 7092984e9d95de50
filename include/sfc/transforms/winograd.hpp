#pragma once
// sfc::Winograd<M, R>: Winograd F(M, R) by Cook-Toom, for comparison.
//
// Linear convolution of length-R and length-M sequences by evaluation at
// n = M + R - 1 points 0, 1, -1, 2, -2, 1/2, -1/2, 3, -3, 1/3, -1/3, ... and
// infinity, transposed into correlation:
//     AT = V_M^T,  G = V_R,  BT = V_n^{-T},
// where V_k(t, j) = a_t^j (and the row e_{k-1} for the point at infinity).
// Each product's BT row is scaled to a primitive integer row (first nonzero
// positive) and its G row by the inverse factor, as published tables do.

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sfc/algebra/matrix.hpp"
#include "sfc/algebra/rational.hpp"
#include "sfc/transforms/bilinear.hpp"
#include "sfc/transforms/form2d.hpp"
#include "sfc/transforms/proof.hpp"

namespace sfc {

/// Winograd tiles need n = M + R - 1 <= 16 interpolation points (the rationals
/// of larger tiles overflow quickly and are numerically useless anyway).
template <int M, int R>
concept WinogradPointsAvailable = M >= 1 && R >= 1 && M + R - 1 <= 16;

namespace detail {

/// The t-th finite Cook-Toom point: 0, 1, -1, 2, -2, 1/2, -1/2, 3, -3, 1/3, -1/3, ...
constexpr Rational cook_toom_point(int t) {
  if (t == 0) return Rational(0);
  if (t <= 2) return Rational(t == 1 ? 1 : -1);
  const int k = (t - 3) / 4 + 2;  // 2, 3, 4, ...
  switch ((t - 3) % 4) {
    case 0: return Rational(k);
    case 1: return Rational(-k);
    case 2: return Rational(1, k);
    default: return Rational(-1, k);
  }
}

/// Vandermonde rows: n points (the last at infinity), k columns.
constexpr DenseMatrix vandermonde(int n, int k) {
  DenseMatrix v(n, k);
  for (int t = 0; t + 1 < n; ++t) {
    Rational p(1);
    for (int j = 0; j < k; ++j) {
      v(t, j) = p;
      p *= cook_toom_point(t);
    }
  }
  v(n - 1, k - 1) = 1;
  return v;
}

}  // namespace detail

/// Generates Winograd F(M, R) in factored form (one product per group);
/// throws std::domain_error for unsupported parameters.
constexpr Stages1D make_winograd_1d(int M, int R) {
  if (M < 1 || R < 1 || M > 16 || R > 16 || M + R - 1 > 16)
    throw std::domain_error("sfc::make_winograd_1d: need M, R >= 1 and M + R - 1 <= 16");
  const int n = M + R - 1;
  Stages1D s;
  s.M = M;
  s.R = R;
  s.L = n;
  s.K = n;
  s.T = n;
  const DenseMatrix vinv = inverse(detail::vandermonde(n, n));
  const DenseMatrix vr = detail::vandermonde(n, R);
  const DenseMatrix vm = detail::vandermonde(n, M);
  s.Dx = DenseMatrix(n, n);
  s.Dw = DenseMatrix(n, R);
  s.Ox = DenseMatrix(M, n);
  for (int t = 0; t < n; ++t) {
    // BT row t = column t of V^-1, scaled to a primitive integer row with a
    // positive first nonzero entry; G row t takes the inverse factor.
    std::int64_t den = 1, num = 0;
    int lead = 0;
    for (int j = n - 1; j >= 0; --j) {
      const Rational& v = vinv(j, t);
      if (v.is_zero()) continue;
      den = detail::lcm_i64(den, v.den());
      num = detail::gcd_i64(num, v.num());
      lead = v.num() > 0 ? 1 : -1;
    }
    const Rational c(detail::checked_mul_i64(den, lead), num);
    for (int j = 0; j < n; ++j) s.Dx(t, j) = vinv(j, t) * c;
    for (int j = 0; j < R; ++j) s.Dw(t, j) = vr(t, j) / c;
    for (int i = 0; i < M; ++i) s.Ox(i, t) = vm(t, i);
    s.groups.push_back(MultBlock::single(t, t));
  }
  return s;
}

template <int M_, int R_>
  requires WinogradPointsAvailable<M_, R_>
struct Winograd {
  using core = Winograd;
  static constexpr int M = M_;
  static constexpr int R = R_;
  static constexpr int L = M + R - 1;
  static constexpr int T = L;  ///< multiplications of the 1D algorithm
  static constexpr int K = T;  ///< no residue stage: the stages are the transforms

  /// The run-time description this type is copied from.
  static constexpr Stages1D stages() { return make_winograd_1d(M, R); }

  /// Data transform BT (T x L): integer rows.
  static constexpr Matrix<Rational, T, L> BT = to_fixed<T, L>(stages().Dx);
  /// Weight transform G (T x R): rational.
  static constexpr Matrix<Rational, T, R> G = to_fixed<T, R>(stages().Dw);
  /// Output transform AT (M x T).
  static constexpr Matrix<Rational, M, T> AT = to_fixed<M, T>(stages().Ox);

  static_assert(correlates_exactly(BT, G, AT),
                "Winograd: the 1D algorithm does not reproduce correlation exactly");

  /// Factored stages (shared vocabulary with SFC): one product per group.
  static constexpr Matrix<Rational, K, L> Dx = to_fixed<K, L>(stages().Dx);
  static constexpr Matrix<Rational, K, R> Dw = to_fixed<K, R>(stages().Dw);
  static constexpr Matrix<Rational, M, K> Ox = to_fixed<M, K>(stages().Ox);
  static constexpr std::array<MultBlock, T> groups = [] {
    std::array<MultBlock, T> g{};
    for (int t = 0; t < T; ++t) g[static_cast<std::size_t>(t)] = MultBlock::single(t, t);
    return g;
  }();

  static constexpr std::int64_t AT_denominator = common_denominator(AT);
  static constexpr Rational data_growth_1d = max_row_l1(BT);
  static constexpr Rational weight_growth_1d = max_row_l1(G);

  using nested_2d = Algorithm2D<Winograd, Form2D::nested>;
  static constexpr int mults_2d_nested = T * T;
  static constexpr int mults_2d_direct = M * M * R * R;

  /// Machine name, e.g. "wino4_3".
  static std::string name() { return "wino" + std::to_string(M) + "_" + std::to_string(R); }
  /// Human name, e.g. "Winograd F(4x4, 3x3)".
  static std::string display_name() {
    const std::string m = std::to_string(M);
    const std::string r = std::to_string(R);
    return "Winograd F(" + m + "x" + m + ", " + r + "x" + r + ")";
  }
};

}  // namespace sfc
