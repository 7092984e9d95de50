#pragma once
// sfc::Half: IEEE 754 binary16 ("fp16") emulated exactly in software, for
// measuring what half precision does to an algorithm (DESIGN.md 1.6).
//
// Format: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
//   largest finite 65504 = (2 - 2^-10) 2^15, smallest normal 2^-14,
//   smallest subnormal 2^-24, machine epsilon 2^-10.
//
// Conversion from double (and from float or integers through an exact
// conversion to double) rounds to nearest, ties to even, once: values from
// 65520 = 65504 + half an ulp upwards become infinity, values at or below
// 2^-25 (half the smallest subnormal) become a zero of the same sign, NaN
// stays NaN (quietened, sign and leading payload kept). Conversion to float
// or double is exact.
//
// Arithmetic (+ - * /) computes in double and rounds the result to half. Sums,
// differences and products of two halves are exact in double, so they are
// rounded once; for quotients double rounding is harmless because double
// carries more than 2 * 11 + 2 significand bits. Every operation is therefore
// correctly rounded, as IEEE half arithmetic would be. Comparisons follow
// IEEE (NaN is unordered, -0 == +0).
//
// Everything is constexpr; no hardware half support is used or needed.

#include <bit>
#include <compare>
#include <cstdint>
#include <type_traits>

namespace sfc {

namespace detail {

/// The binary16 encoding of `v`, rounded to nearest, ties to even.
constexpr std::uint16_t double_to_half_bits(double v) {
  const auto d = std::bit_cast<std::uint64_t>(v);
  const auto sign = static_cast<std::uint16_t>((d >> 48) & 0x8000u);
  const auto exp_field = static_cast<int>((d >> 52) & 0x7FFu);
  const std::uint64_t frac = d & ((std::uint64_t{1} << 52) - 1);

  if (exp_field == 0x7FF) {  // infinity or NaN
    if (frac == 0) return static_cast<std::uint16_t>(sign | 0x7C00u);
    return static_cast<std::uint16_t>(sign | 0x7E00u | static_cast<std::uint16_t>(frac >> 42));
  }
  if (exp_field == 0) return sign;  // zero or a double subnormal (< 2^-1022): rounds to zero

  const int e = exp_field - 1023;  // v = sig * 2^(e - 52), 2^52 <= sig < 2^53
  if (e >= 16) return static_cast<std::uint16_t>(sign | 0x7C00u);  // >= 2^16: infinity
  const std::uint64_t sig = frac | (std::uint64_t{1} << 52);

  // Keep q = sig >> shift and round on the bits shifted out. For normal
  // results q has 11 bits (the leading one included); for subnormal results
  // q counts units of 2^-24. A carry out of the fraction moves the value to
  // the next binade (or from subnormal to normal, or to infinity) by itself,
  // because the encoding is monotonic.
  const int shift = e >= -14 ? 42 : 28 - e;  // 43 .. for subnormal results
  if (shift > 53) return sign;               // below 2^-25: rounds to zero
  std::uint64_t q = sig >> shift;
  const std::uint64_t rest = sig & ((std::uint64_t{1} << shift) - 1);
  const std::uint64_t halfway = std::uint64_t{1} << (shift - 1);
  if (rest > halfway || (rest == halfway && (q & 1u) != 0)) ++q;

  std::uint64_t bits = q;  // subnormal: the fraction field is q itself
  if (e >= -14) bits = (static_cast<std::uint64_t>(e + 15) << 10) + (q - 1024);
  return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(bits));
}

/// The exact double value of a binary16 encoding.
constexpr double half_bits_to_double(std::uint16_t h) {
  const std::uint64_t sign = static_cast<std::uint64_t>(h & 0x8000u) << 48;
  const int exp_field = (h >> 10) & 0x1F;
  const std::uint64_t frac = h & 0x3FFu;
  if (exp_field == 0x1F)  // infinity or NaN, payload kept
    return std::bit_cast<double>(sign | (std::uint64_t{0x7FF} << 52) | (frac << 42));
  if (exp_field == 0) {  // zero or subnormal: frac * 2^-24, exact in double
    const double magnitude = static_cast<double>(frac) / 16777216.0;
    return sign != 0 ? -magnitude : magnitude;
  }
  const auto exp = static_cast<std::uint64_t>(exp_field - 15 + 1023);
  return std::bit_cast<double>(sign | (exp << 52) | (frac << 42));
}

}  // namespace detail

/// One IEEE binary16 value; arithmetic is correctly rounded (see above).
class Half {
 public:
  /// +0.
  constexpr Half() = default;

  /// The nearest half (ties to even) to a float, double or integer. (Integers
  /// beyond 2^53 are first rounded to double; all of them overflow to infinity
  /// anyway.) long double is refused: its rounding to double could round twice.
  template <class A>
    requires(std::is_arithmetic_v<A> && !std::is_same_v<std::remove_cv_t<A>, long double> &&
             !std::is_same_v<std::remove_cv_t<A>, bool>)
  constexpr explicit Half(A v) : bits_(detail::double_to_half_bits(static_cast<double>(v))) {}

  /// The value with encoding `bits`.
  static constexpr Half from_bits(std::uint16_t bits) {
    Half h;
    h.bits_ = bits;
    return h;
  }
  /// The encoding.
  constexpr std::uint16_t bits() const { return bits_; }

  /// Exact conversions.
  constexpr double to_double() const { return detail::half_bits_to_double(bits_); }
  constexpr explicit operator double() const { return to_double(); }
  constexpr explicit operator float() const { return static_cast<float>(to_double()); }

  /// Special values.
  static constexpr Half max() { return from_bits(0x7BFFu); }         ///< 65504
  static constexpr Half lowest() { return from_bits(0xFBFFu); }      ///< -65504
  static constexpr Half min_normal() { return from_bits(0x0400u); }  ///< 2^-14
  static constexpr Half denorm_min() { return from_bits(0x0001u); }  ///< 2^-24
  static constexpr Half epsilon() { return from_bits(0x1400u); }     ///< 2^-10
  static constexpr Half infinity() { return from_bits(0x7C00u); }
  static constexpr Half quiet_nan() { return from_bits(0x7E00u); }

  constexpr bool is_nan() const { return (bits_ & 0x7C00u) == 0x7C00u && (bits_ & 0x3FFu) != 0; }
  constexpr bool is_inf() const { return (bits_ & 0x7FFFu) == 0x7C00u; }
  constexpr bool is_finite() const { return (bits_ & 0x7C00u) != 0x7C00u; }
  constexpr bool sign_bit() const { return (bits_ & 0x8000u) != 0; }

  /// Negation flips the sign bit (exact, also for zeros and NaN).
  constexpr Half operator-() const {
    return from_bits(static_cast<std::uint16_t>(bits_ ^ 0x8000u));
  }
  constexpr Half operator+() const { return *this; }

  friend constexpr Half operator+(Half a, Half b) { return Half(a.to_double() + b.to_double()); }
  friend constexpr Half operator-(Half a, Half b) { return Half(a.to_double() - b.to_double()); }
  friend constexpr Half operator*(Half a, Half b) { return Half(a.to_double() * b.to_double()); }
  friend constexpr Half operator/(Half a, Half b) { return Half(a.to_double() / b.to_double()); }
  constexpr Half& operator+=(Half b) { return *this = *this + b; }
  constexpr Half& operator-=(Half b) { return *this = *this - b; }
  constexpr Half& operator*=(Half b) { return *this = *this * b; }
  constexpr Half& operator/=(Half b) { return *this = *this / b; }

  /// IEEE comparisons: NaN compares unequal and unordered, -0 == +0.
  friend constexpr bool operator==(Half a, Half b) { return a.to_double() == b.to_double(); }
  friend constexpr std::partial_ordering operator<=>(Half a, Half b) {
    return a.to_double() <=> b.to_double();
  }

 private:
  std::uint16_t bits_ = 0;
};

/// The nearest half to `v` (ties to even), as a double: fp16 storage of a value.
constexpr double round_to_half(double v) { return Half(v).to_double(); }

}  // namespace sfc
