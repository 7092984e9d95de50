#pragma once
// Cyclotomic polynomials: z^N - 1 = prod_{d | N} Phi_d(z).

#include <stdexcept>

#include "sfc/algebra/polynomial.hpp"

namespace sfc {

/// Phi_n(z), computed as (z^n - 1) / prod_{d | n, d < n} Phi_d(z).
constexpr Polynomial cyclotomic(int n) {
  if (n < 1 || n >= Polynomial::capacity) throw std::domain_error("sfc::cyclotomic: n out of range");
  Polynomial p = Polynomial::monomial(1, n) - Polynomial::monomial(1, 0);
  for (int d = 1; d < n; ++d) {
    if (n % d != 0) continue;
    const auto qr = p.divmod(cyclotomic(d));
    if (qr.remainder.degree() >= 0) throw std::logic_error("sfc::cyclotomic: inexact division");
    p = qr.quotient;
  }
  return p;
}

/// Number of positive divisors of n.
constexpr int divisor_count(int n) {
  int k = 0;
  for (int d = 1; d <= n; ++d) k += (n % d == 0) ? 1 : 0;
  return k;
}

/// The i-th positive divisor of n, in increasing order.
constexpr int divisor(int n, int i) {
  for (int d = 1; d <= n; ++d)
    if (n % d == 0 && i-- == 0) return d;
  throw std::out_of_range("sfc::divisor: index out of range");
}

}  // namespace sfc
