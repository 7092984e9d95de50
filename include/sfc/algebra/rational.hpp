#pragma once
// Exact rational numbers for compile-time transform generation.
//
// sfc::Rational is a normalized fraction of two 64-bit integers. Every
// operation checks for overflow: in a constant expression an overflow is a
// compile error (the evaluation reaches a throw), at run time it throws
// std::overflow_error. Nothing ever wraps silently.

#include <cstdint>
#include <stdexcept>

namespace sfc {

namespace detail {

[[noreturn]] inline void rational_overflow() {
  throw std::overflow_error("sfc::Rational: 64-bit overflow in exact arithmetic");
}

constexpr std::int64_t checked_mul_i64(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) rational_overflow();
  return r;
}

constexpr std::int64_t checked_add_i64(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) rational_overflow();
  return r;
}

constexpr std::int64_t checked_neg_i64(std::int64_t a) {
  if (a == INT64_MIN) rational_overflow();
  return -a;
}

constexpr std::int64_t gcd_i64(std::int64_t a, std::int64_t b) {
  if (a < 0) a = checked_neg_i64(a);
  if (b < 0) b = checked_neg_i64(b);
  while (b != 0) {
    const std::int64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

constexpr std::int64_t lcm_i64(std::int64_t a, std::int64_t b) {
  if (a == 0 || b == 0) return 0;
  const std::int64_t g = gcd_i64(a, b);
  std::int64_t r = checked_mul_i64(a / g, b);
  return r < 0 ? checked_neg_i64(r) : r;
}

}  // namespace detail

/// Stored as numerator and denominator - 1, so that the all-zero bit pattern
/// is the value 0: zero-filled storage (as some compilers emit for constant
/// arrays of default-constructed elements) is always a valid Rational.
class Rational {
 public:
  constexpr Rational() : num_(0), den_m1_(0) {}
  constexpr Rational(std::int64_t value) : num_(value), den_m1_(0) {}  // NOLINT: implicit by design
  constexpr Rational(std::int64_t num, std::int64_t den) : num_(0), den_m1_(0) {
    if (den == 0) throw std::domain_error("sfc::Rational: zero denominator");
    normalize(num, den);
  }

  constexpr std::int64_t num() const { return num_; }
  constexpr std::int64_t den() const { return den_m1_ + 1; }
  constexpr bool is_integer() const { return den_m1_ == 0; }
  constexpr bool is_zero() const { return num_ == 0; }

  constexpr Rational operator-() const {
    Rational r = *this;
    r.num_ = detail::checked_neg_i64(num_);
    return r;
  }
  constexpr Rational abs() const { return num_ < 0 ? -*this : *this; }
  constexpr Rational reciprocal() const { return Rational(den(), num_); }

  friend constexpr Rational operator+(const Rational& a, const Rational& b) {
    const std::int64_t g = detail::gcd_i64(a.den(), b.den());
    const std::int64_t ad = a.den() / g;
    const std::int64_t bd = b.den() / g;
    return Rational(detail::checked_add_i64(detail::checked_mul_i64(a.num_, bd),
                                            detail::checked_mul_i64(b.num_, ad)),
                    detail::checked_mul_i64(ad, b.den()));
  }
  friend constexpr Rational operator-(const Rational& a, const Rational& b) { return a + (-b); }
  friend constexpr Rational operator*(const Rational& a, const Rational& b) {
    // Cross-reduce first so that products of normalized fractions stay small.
    const std::int64_t g1 = detail::gcd_i64(a.num_, b.den());
    const std::int64_t g2 = detail::gcd_i64(b.num_, a.den());
    const std::int64_t n1 = a.num_ / g1;
    const std::int64_t d2 = b.den() / g1;
    const std::int64_t n2 = b.num_ / g2;
    const std::int64_t d1 = a.den() / g2;
    return Rational(detail::checked_mul_i64(n1, n2), detail::checked_mul_i64(d1, d2));
  }
  friend constexpr Rational operator/(const Rational& a, const Rational& b) {
    return a * b.reciprocal();
  }
  constexpr Rational& operator+=(const Rational& o) { return *this = *this + o; }
  constexpr Rational& operator-=(const Rational& o) { return *this = *this - o; }
  constexpr Rational& operator*=(const Rational& o) { return *this = *this * o; }
  constexpr Rational& operator/=(const Rational& o) { return *this = *this / o; }

  friend constexpr bool operator==(const Rational& a, const Rational& b) = default;
  friend constexpr bool operator<(const Rational& a, const Rational& b) {
    // Exact cross-multiplication in 128 bits (denominators are positive).
    __extension__ using wide = __int128;
    return static_cast<wide>(a.num_) * b.den() < static_cast<wide>(b.num_) * a.den();
  }
  friend constexpr bool operator>(const Rational& a, const Rational& b) { return b < a; }
  friend constexpr bool operator<=(const Rational& a, const Rational& b) { return !(b < a); }
  friend constexpr bool operator>=(const Rational& a, const Rational& b) { return !(a < b); }

  /// The value as a double (exact when numerator and denominator fit 53 bits).
  constexpr double to_double() const {
    return static_cast<double>(num_) / static_cast<double>(den());
  }

 private:
  constexpr void normalize(std::int64_t num, std::int64_t den) {
    if (den < 0) {
      num = detail::checked_neg_i64(num);
      den = detail::checked_neg_i64(den);
    }
    const std::int64_t g = detail::gcd_i64(num, den);
    if (g > 1) {
      num /= g;
      den /= g;
    }
    if (num == 0) den = 1;
    num_ = num;
    den_m1_ = den - 1;
  }

  std::int64_t num_;
  std::int64_t den_m1_;  ///< denominator - 1 (the denominator is positive)
};

}  // namespace sfc
