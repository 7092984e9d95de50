#pragma once
// Exactness proofs for bilinear algorithms.
//
// A bilinear algorithm is linear in the data and in the weights, so checking
// it on every pair of basis vectors proves it for all inputs. These functions
// are constexpr: the generators static_assert them, tests call them too.

#include <array>
#include <cstddef>

#include "sfc/algebra/matrix.hpp"
#include "sfc/algebra/polynomial.hpp"
#include "sfc/algebra/rational.hpp"
#include "sfc/transforms/bilinear.hpp"
#include "sfc/transforms/form2d.hpp"

namespace sfc {

/// y = AT ((G w) .* (BT x)) equals y[i] = sum_k x[i + k] w[k] for every pair
/// of basis vectors x = e_p, w = e_k.
template <int T, int L, int M, int R>
constexpr bool correlates_exactly(const Matrix<Rational, T, L>& BT,
                                  const Matrix<Rational, T, R>& G,
                                  const Matrix<Rational, M, T>& AT) {
  for (int p = 0; p < L; ++p)
    for (int k = 0; k < R; ++k)
      for (int i = 0; i < M; ++i) {
        Rational y;
        for (int t = 0; t < T; ++t) {
          const Rational m = G(t, k) * BT(t, p);
          if (!m.is_zero()) y += AT(i, t) * m;
        }
        if (y != Rational(p == i + k ? 1 : 0)) return false;
      }
  return true;
}

/// Every split pair block of a 2D form multiplies exactly in
/// Z[x]/(modulus of the row group) (x) Z[y]/(modulus of the column group):
/// checked on every pair of basis entries. The other blocks are Kronecker
/// products of 1D groups, so with an exact 1D algorithm this proves the whole
/// 2D algorithm. With all_blocks, the nested blocks are checked as well.
template <class A2>
constexpr bool pair_blocks_exact(bool all_blocks = false) {
  for (const PairBlock& pb : A2::pairs) {
    if (!pb.split && !all_blocks) continue;
    const MultBlock& ga = A2::algorithm::groups[static_cast<std::size_t>(pb.row_group)];
    const MultBlock& gb = A2::algorithm::groups[static_cast<std::size_t>(pb.col_group)];
    const Polynomial mx = group_modulus(ga);
    const Polynomial my = group_modulus(gb);
    const int entries = pb.rows * pb.cols;
    for (int u = 0; u < entries; ++u)
      for (int v = 0; v < entries; ++v) {
        const Polynomial px =
            Polynomial::monomial(1, u / pb.cols + v / pb.cols).mod(mx);
        const Polynomial py =
            Polynomial::monomial(1, u % pb.cols + v % pb.cols).mod(my);
        for (int e = 0; e < entries; ++e) {
          Rational r;
          for (int p = pb.first_product; p < pb.first_product + pb.products; ++p) {
            const PairProduct& q = A2::products[static_cast<std::size_t>(p)];
            const int m = q.form[static_cast<std::size_t>(u)] * q.form[static_cast<std::size_t>(v)];
            if (m != 0) r += q.recon[static_cast<std::size_t>(e)] * Rational(m);
          }
          if (r != Rational(px[e / pb.cols] * py[e % pb.cols])) return false;
        }
      }
  }
  return true;
}

}  // namespace sfc
