#pragma once
// Bilinear building blocks shared by every transform generator.
//
// A fast 1D correlation is described in factored form:
//
//   residue stage   z = Dx x     (K x L),   v = Dw w   (K x R)
//   products        grouped: each MultBlock multiplies one group of residue
//                   coefficients (a polynomial modulo a cyclotomic factor,
//                   or a single correction term) with `products` scalar
//                   multiplications: m_p = (forms[p] . z_g) * (forms[p] . v_g)
//   reconstruction  the reduced product's coefficients r_c = sum_p recon[c][p] m_p
//   output stage    y = Ox r     (M x K)
//
// so that BT = F Dx, G = F Dw and AT = Ox C with F = blockdiag(forms) and
// C = blockdiag(recon). The 2D forms (nested and symbolic) reuse the same
// stages in both dimensions.

#include <array>
#include <cstdint>
#include <stdexcept>

#include "sfc/algebra/cyclotomic.hpp"
#include "sfc/algebra/matrix.hpp"
#include "sfc/algebra/polynomial.hpp"

namespace sfc {

/// Largest residue group handled: the degree-4 cyclotomic factors of N = 8, 12.
inline constexpr int kMaxGroupSize = 4;
/// Two-level Karatsuba on a degree-4 factor uses 9 multiplications.
inline constexpr int kMaxGroupProducts = 9;

/// One group of multiplications in a 1D bilinear algorithm.
struct MultBlock {
  int factor = 0;        ///< d of the cyclotomic factor Phi_d; 0 for a single product
  int size = 1;          ///< number of residue coefficients in the group (deg Phi_d)
  int products = 1;      ///< scalar multiplications the group costs
  int offset = 0;        ///< first residue row of the group (row of Dx, Dw; column of Ox)
  int first_product = 0; ///< index of the group's first product (row of BT and G)
  std::array<int, kMaxGroupSize> signs{};  ///< Karatsuba signs chosen for ternary rows
  int num_signs = 0;
  /// forms[p][c]: product p multiplies sum_c forms[p][c] * (coefficient c) on both sides.
  std::array<std::array<int, kMaxGroupSize>, kMaxGroupProducts> forms{};
  /// recon[c][p]: coefficient c of the reduced product, from the products.
  std::array<std::array<int, kMaxGroupProducts>, kMaxGroupSize> recon{};

  /// A group of one coefficient and one plain product.
  static constexpr MultBlock single(int offset, int first_product) {
    MultBlock b;
    b.offset = offset;
    b.first_product = first_product;
    b.forms[0][0] = 1;
    b.recon[0][0] = 1;
    return b;
  }
};

namespace detail {

/// A bilinear algorithm for the full (not reduced) product of two
/// polynomials with k coefficients: the product has 2k - 1 coefficients.
struct PolyMul {
  int k = 1;
  int t = 1;
  std::array<std::array<int, kMaxGroupSize>, kMaxGroupProducts> forms{};   // t x k
  std::array<std::array<int, kMaxGroupProducts>, 2 * kMaxGroupSize - 1> combine{};  // (2k-1) x t
};

/// Karatsuba with sign s: (a0 + a1 z)(b0 + b1 z) from m1 = a0 b0, m2 = a1 b1,
/// m3 = (a0 + s a1)(b0 + s b1): product = m1 + s (m3 - m1 - m2) z + m2 z^2.
constexpr PolyMul karatsuba2(int s) {
  PolyMul r;
  r.k = 2;
  r.t = 3;
  r.forms[0] = {1, 0, 0, 0};
  r.forms[1] = {0, 1, 0, 0};
  r.forms[2] = {1, s, 0, 0};
  r.combine[0] = {1, 0, 0};
  r.combine[1] = {-s, -s, s};
  r.combine[2] = {0, 1, 0};
  return r;
}

/// Two-level Karatsuba for four coefficients: A = A0 + A1 z^2 with the outer
/// sign `outer`, and each of the three half products by karatsuba2 with its own sign.
constexpr PolyMul karatsuba4(int outer, int s0, int s1, int s2) {
  const PolyMul h[3] = {karatsuba2(s0), karatsuba2(s1), karatsuba2(s2)};
  PolyMul r;
  r.k = 4;
  r.t = 9;
  for (int p = 0; p < 3; ++p) {
    const auto& f = h[0].forms[static_cast<std::size_t>(p)];
    r.forms[static_cast<std::size_t>(p)] = {f[0], f[1], 0, 0};  // A0 B0
    const auto& g = h[1].forms[static_cast<std::size_t>(p)];
    r.forms[static_cast<std::size_t>(3 + p)] = {0, 0, g[0], g[1]};  // A1 B1
    const auto& q = h[2].forms[static_cast<std::size_t>(p)];
    r.forms[static_cast<std::size_t>(6 + p)] = {q[0], q[1], outer * q[0], outer * q[1]};
  }
  // P = P00 + outer (Ps - P00 - P11) z^2 + P11 z^4.
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      r.combine[i][j] += h[0].combine[i][j];
      r.combine[i + 2][j] -= outer * h[0].combine[i][j];
      r.combine[i + 4][3 + j] += h[1].combine[i][j];
      r.combine[i + 2][3 + j] -= outer * h[1].combine[i][j];
      r.combine[i + 2][6 + j] += outer * h[2].combine[i][j];
    }
  return r;
}

/// Candidate algorithms for a factor of degree k, in order of preference.
constexpr int polymul_candidates(int k) { return k == 1 ? 1 : k == 2 ? 2 : k == 4 ? 16 : 0; }

constexpr PolyMul polymul_candidate(int k, int index) {
  const auto sign = [](int bit) { return bit ? -1 : 1; };
  if (k == 1) {
    PolyMul r;
    r.forms[0][0] = 1;
    r.combine[0][0] = 1;
    return r;
  }
  if (k == 2) return karatsuba2(sign(index & 1));
  if (k == 4)
    return karatsuba4(sign((index >> 3) & 1), sign((index >> 2) & 1), sign((index >> 1) & 1),
                      sign(index & 1));
  throw std::domain_error("sfc: no ternary multiplication algorithm for this factor degree");
}

constexpr int polymul_sign_count(int k) { return k == 2 ? 1 : k == 4 ? 4 : 0; }

constexpr int polymul_sign(int k, int index, int which) {
  if (k == 2) return (index & 1) ? -1 : 1;
  return ((index >> (3 - which)) & 1) ? -1 : 1;
}

/// Coefficient c of z^e mod phi.
constexpr std::int64_t power_residue(const Polynomial& phi, int e, int c) {
  return Polynomial::monomial(1, e).mod(phi)[c];
}

}  // namespace detail

/// The modulus of a group's products: Phi_d, or z for a single plain product
/// (z^0 = 1 and every higher power vanishes).
constexpr Polynomial group_modulus(const MultBlock& b) {
  return b.factor == 0 ? Polynomial::monomial(1, 1) : cyclotomic(b.factor);
}

}  // namespace sfc
