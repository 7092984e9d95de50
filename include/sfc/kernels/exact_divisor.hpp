#pragma once
/// \file
/// `exact_divisor<U>(d)`: what an exact division by d needs in unsigned
/// lanes of type U. Every dividend is a multiple of d = 2^shift * odd, so
/// a / d = (a >> shift) * inverse modulo 2^bits, with inverse * odd == 1
/// modulo 2^bits (the SIMD targets' exact_div_i64). Multiplying first,
/// a / d = ((a * inverse) modulo 2^bits) >> shift (arithmetic), needs less:
/// a may have wrapped modulo 2^bits, as long as the quotient times 2^shift
/// fits the signed lane (the targets' exact_div_i32, see ExactConv2d).

#include <cstdint>
#include <limits>
#include <type_traits>

namespace sfc::kernels {

template <class U>
struct ExactDivisor {
  int shift = 0;  ///< power of two in d
  U inverse = 1;  ///< inverse of d's odd part modulo 2^bits of U
};

/// d > 0. Newton's iteration doubles the correct low bits of the inverse
/// from the 3 that odd * odd == 1 (mod 8) gives.
template <class U>
constexpr ExactDivisor<U> exact_divisor(std::int64_t d) noexcept {
  static_assert(std::is_unsigned_v<U>);
  ExactDivisor<U> r;
  while ((d & 1) == 0) {
    d >>= 1;
    ++r.shift;
  }
  const auto odd = static_cast<U>(d);
  r.inverse = odd;
  for (int bits = 3; bits < std::numeric_limits<U>::digits; bits *= 2)
    r.inverse = static_cast<U>(r.inverse * static_cast<U>(U{2} - odd * r.inverse));
  return r;
}

static_assert(exact_divisor<std::uint32_t>(108).shift == 2 &&
              static_cast<std::uint32_t>(exact_divisor<std::uint32_t>(108).inverse * 27u) == 1u);
static_assert(exact_divisor<std::uint64_t>(108).shift == 2 &&
              exact_divisor<std::uint64_t>(108).inverse * 27u == 1u);

}  // namespace sfc::kernels
