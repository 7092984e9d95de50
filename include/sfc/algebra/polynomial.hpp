#pragma once
// Integer polynomials of bounded degree, usable in constant expressions.
//
// Coefficients are stored lowest degree first. The capacity is fixed so that
// polynomials are literal types (constexpr variables); exceeding it, or any
// 64-bit overflow, is an error rather than a silent truncation.

#include <array>
#include <cstdint>
#include <stdexcept>

#include "sfc/algebra/rational.hpp"

namespace sfc {

class Polynomial {
 public:
  static constexpr int capacity = 32;  ///< maximum number of coefficients

  constexpr Polynomial() = default;
  /// The monomial c * z^power.
  static constexpr Polynomial monomial(std::int64_t c, int power) {
    Polynomial p;
    p.set(power, c);
    return p;
  }

  /// Degree; the zero polynomial has degree -1.
  constexpr int degree() const {
    for (int i = capacity - 1; i >= 0; --i)
      if (c_[static_cast<std::size_t>(i)] != 0) return i;
    return -1;
  }
  constexpr std::int64_t operator[](int i) const {
    return (i < 0 || i >= capacity) ? 0 : c_[static_cast<std::size_t>(i)];
  }
  constexpr void set(int i, std::int64_t v) {
    if (i < 0 || i >= capacity) throw std::length_error("sfc::Polynomial: degree exceeds capacity");
    c_[static_cast<std::size_t>(i)] = v;
  }
  constexpr bool is_monic() const { return degree() >= 0 && (*this)[degree()] == 1; }

  friend constexpr bool operator==(const Polynomial&, const Polynomial&) = default;

  friend constexpr Polynomial operator+(const Polynomial& a, const Polynomial& b) {
    Polynomial r;
    for (int i = 0; i < capacity; ++i) r.set(i, detail::checked_add_i64(a[i], b[i]));
    return r;
  }
  friend constexpr Polynomial operator-(const Polynomial& a) {
    Polynomial r;
    for (int i = 0; i < capacity; ++i) r.set(i, detail::checked_neg_i64(a[i]));
    return r;
  }
  friend constexpr Polynomial operator-(const Polynomial& a, const Polynomial& b) {
    return a + (-b);
  }
  friend constexpr Polynomial operator*(const Polynomial& a, const Polynomial& b) {
    Polynomial r;
    const int da = a.degree();
    const int db = b.degree();
    for (int i = 0; i <= da; ++i)
      for (int j = 0; j <= db; ++j)
        if (a[i] != 0 && b[j] != 0)
          r.set(i + j, detail::checked_add_i64(r[i + j], detail::checked_mul_i64(a[i], b[j])));
    return r;
  }

  /// Quotient and remainder of division by a monic polynomial.
  struct DivResult;
  constexpr DivResult divmod(const Polynomial& monic) const;

  /// Remainder modulo a monic polynomial.
  constexpr Polynomial mod(const Polynomial& monic) const;

 private:
  std::array<std::int64_t, capacity> c_{};
};

struct Polynomial::DivResult {
  Polynomial quotient;
  Polynomial remainder;
};

constexpr Polynomial::DivResult Polynomial::divmod(const Polynomial& m) const {
  if (!m.is_monic()) throw std::domain_error("sfc::Polynomial: divisor must be monic");
  const int dm = m.degree();
  DivResult out{Polynomial{}, *this};
  for (int i = out.remainder.degree(); i >= dm; --i) {
    const std::int64_t c = out.remainder[i];
    if (c == 0) continue;
    out.quotient.set(i - dm, c);
    for (int j = 0; j <= dm; ++j)
      out.remainder.set(i - dm + j, detail::checked_add_i64(out.remainder[i - dm + j],
                                                            detail::checked_mul_i64(detail::checked_neg_i64(c), m[j])));
  }
  return out;
}

constexpr Polynomial Polynomial::mod(const Polynomial& m) const { return divmod(m).remainder; }

}  // namespace sfc
