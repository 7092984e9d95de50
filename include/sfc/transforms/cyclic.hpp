#pragma once
// N-point cyclic correlation over cyclotomic residues: the "symbolic DFT".
//
// z^N - 1 = prod_{d | N} Phi_d(z). Reducing a sequence modulo each Phi_d needs
// additions only (ternary residue rows); each residue pair is multiplied by
// the cheapest Karatsuba variant whose composed rows stay ternary; the inverse
// CRT (denominator N) is left to the output stage.

#include <array>
#include <stdexcept>
#include <vector>

#include "sfc/algebra/cyclotomic.hpp"
#include "sfc/algebra/matrix.hpp"
#include "sfc/transforms/bilinear.hpp"

namespace sfc {

/// Transform lengths whose cyclotomic factors all have degree 1, 2 or 4, so
/// that the residue multiplications have ternary Karatsuba forms.
template <int N>
concept SymbolicFourierLength = N == 2 || N == 3 || N == 4 || N == 6 || N == 8 || N == 12;

namespace detail {

/// The multiplication block for Phi_d inside an N-point cyclic correlation:
/// the first Karatsuba variant whose rows are ternary on every z^t, t < N.
constexpr MultBlock cyclotomic_block(int N, int d, int offset, int first_product) {
  const Polynomial phi = cyclotomic(d);
  const int k = phi.degree();
  // zres[t][c] = coefficient c of z^t mod phi, for every power needed below.
  const int powers = N > 2 * k - 1 ? N : 2 * k - 1;
  // A fixed array, not a std::vector: Clang 14 rejects libstdc++'s
  // value-initialization of a vector of trivial elements in constant expressions.
  constexpr int kMaxPowers = 12 > 2 * kMaxGroupSize - 1 ? 12 : 2 * kMaxGroupSize - 1;
  if (powers > kMaxPowers || k > kMaxGroupSize)
    throw std::domain_error("sfc: cyclotomic factor too large for the Karatsuba tables");
  std::array<std::array<std::int64_t, kMaxGroupSize>, kMaxPowers> zres{};
  for (int t = 0; t < powers; ++t) {
    const Polynomial r = Polynomial::monomial(1, t).mod(phi);
    for (int c = 0; c < k; ++c) zres[static_cast<std::size_t>(t)][static_cast<std::size_t>(c)] = r[c];
  }
  for (int cand = 0; cand < polymul_candidates(k); ++cand) {
    const PolyMul pm = polymul_candidate(k, cand);
    bool ternary = true;
    for (int p = 0; p < pm.t && ternary; ++p)
      for (int t = 0; t < N && ternary; ++t) {
        std::int64_t v = 0;
        for (int c = 0; c < k; ++c)
          v += pm.forms[static_cast<std::size_t>(p)][static_cast<std::size_t>(c)] *
               zres[static_cast<std::size_t>(t)][static_cast<std::size_t>(c)];
        ternary = v >= -1 && v <= 1;
      }
    if (!ternary) continue;
    MultBlock b;
    b.factor = d;
    b.size = k;
    b.products = pm.t;
    b.offset = offset;
    b.first_product = first_product;
    b.num_signs = polymul_sign_count(k);
    for (int s = 0; s < b.num_signs; ++s)
      b.signs[static_cast<std::size_t>(s)] = polymul_sign(k, cand, s);
    b.forms = pm.forms;
    for (int c = 0; c < k; ++c)
      for (int p = 0; p < pm.t; ++p) {
        std::int64_t v = 0;
        for (int e = 0; e < 2 * k - 1; ++e)
          v += zres[static_cast<std::size_t>(e)][static_cast<std::size_t>(c)] *
               pm.combine[static_cast<std::size_t>(e)][static_cast<std::size_t>(p)];
        b.recon[static_cast<std::size_t>(c)][static_cast<std::size_t>(p)] = static_cast<int>(v);
      }
    return b;
  }
  throw std::domain_error("sfc: no ternary Karatsuba form for this cyclotomic factor");
}

/// True for the transform lengths of SymbolicFourierLength (run-time check).
constexpr bool is_symbolic_fourier_length(int N) {
  return N == 2 || N == 3 || N == 4 || N == 6 || N == 8 || N == 12;
}

/// One multiplication block per cyclotomic factor Phi_d of z^N - 1, d increasing.
constexpr std::vector<MultBlock> cyclic_blocks(int N) {
  if (!is_symbolic_fourier_length(N))
    throw std::domain_error("sfc: unsupported symbolic Fourier length N");
  std::vector<MultBlock> out;
  int offset = 0;
  int product = 0;
  for (int i = 0; i < divisor_count(N); ++i) {
    out.push_back(cyclotomic_block(N, divisor(N, i), offset, product));
    offset += out.back().size;
    product += out.back().products;
  }
  return out;
}

/// residues(offset_d + c, t) = coefficient c of z^t mod Phi_d (N x N, ternary).
constexpr DenseMatrix cyclic_residues(int N) {
  DenseMatrix m(N, N);
  for (const MultBlock& b : cyclic_blocks(N)) {
    const Polynomial phi = cyclotomic(b.factor);
    for (int c = 0; c < b.size; ++c)
      for (int t = 0; t < N; ++t) m(b.offset + c, t) = power_residue(phi, t, c);
  }
  return m;
}

}  // namespace detail

/// Cyclic correlation c[j] = sum_t x[(j + t) mod N] u'[t] computed through the
/// cyclotomic residues of X(z) = sum x[t] z^t and U(z) = sum u[t] z^t.
template <int N>
  requires SymbolicFourierLength<N>
struct CyclicCorrelation {
  static constexpr int length = N;
  static constexpr int num_factors = divisor_count(N);

  /// One multiplication block per cyclotomic factor Phi_d, d | N increasing.
  static constexpr std::array<MultBlock, num_factors> blocks = [] {
    const std::vector<MultBlock> v = detail::cyclic_blocks(N);
    std::array<MultBlock, num_factors> out{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = v[i];
    return out;
  }();

  /// Multiplications of one N-point cyclic correlation.
  static constexpr int products = blocks.back().first_product + blocks.back().products;

  /// residues(offset_d + c, t) = coefficient c of z^t mod Phi_d: ternary, invertible.
  static constexpr Matrix<Rational, N, N> residues = to_fixed<N, N>(detail::cyclic_residues(N));

  /// The inverse CRT: window coefficients from residue coefficients (denominator N).
  static constexpr Matrix<Rational, N, N> residues_inverse =
      to_fixed<N, N>(inverse(detail::cyclic_residues(N)));
};

}  // namespace sfc
