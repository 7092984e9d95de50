#pragma once
/// \file
/// `sfc::Requantization`: exact int32 results -> int8 or uint8 outputs with
/// per-output-channel scales, rounded exactly:
///
///   out[o] = clamp(round_half_even(acc * scale[o]) + zero_point, min, max)
///
/// where acc * scale[o] is the exact real product of the int32 result and
/// the float scale (no intermediate rounding): every finite float scale is
/// m * 2^-s with an integer m < 2^24, so acc * m is exact in int64 and the
/// division by 2^s is rounded exactly, ties to even. min and max are the
/// output type's range (-128..127 or 0..255).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sfc/core/error.hpp"

namespace sfc {

class Requantization {
 public:
  /// `scales`: one value for every channel, or one per output channel
  /// (finite, > 0). `zero_point`: added after rounding.
  explicit Requantization(std::span<const float> scales, std::int32_t zero_point = 0)
      : zero_point_(zero_point) {
    if (scales.empty()) throw Error("sfc::Requantization: no scales given");
    for (const float s : scales) {
      if (!std::isfinite(s) || !(s > 0)) {
        throw Error("sfc::Requantization: scales must be finite and positive (got " + std::to_string(s) + ")");
      }
      int e = 0;
      const float f = std::frexp(s, &e);  // s = f * 2^e, 0.5 <= f < 1
      mantissa_.push_back(static_cast<std::int64_t>(std::ldexp(f, 24)));  // exact: f has 24 bits
      shift_.push_back(24 - e);
    }
  }

  std::size_t size() const noexcept { return mantissa_.size(); }
  std::int32_t zero_point() const noexcept { return zero_point_; }

  /// Throws sfc::Error unless the scales fit `channels` output channels and
  /// the zero point lies in Out's range.
  template <class Out>
  void check(std::int64_t channels, const char* who) const {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::uint8_t>);
    if (size() != 1 && static_cast<std::int64_t>(size()) != channels) {
      throw Error(std::string(who) + ": requantization has " + std::to_string(size()) +
                  " scales for " + std::to_string(channels) + " output channels (need 1 or " +
                  std::to_string(channels) + ")");
    }
    if (zero_point_ < std::numeric_limits<Out>::min() || zero_point_ > std::numeric_limits<Out>::max()) {
      throw Error(std::string(who) + ": zero point " + std::to_string(zero_point_) +
                  " is outside the output type's range");
    }
  }

  /// The requantized value of `acc` for output channel `channel` (call
  /// check<Out> first).
  template <class Out>
  Out apply(std::int32_t acc, std::int64_t channel) const noexcept {
    const auto k = size() == 1 ? std::size_t{0} : static_cast<std::size_t>(channel);
    const std::int64_t rounded = round_scaled(acc, mantissa_[k], shift_[k]);
    const std::int64_t v = rounded + zero_point_;
    constexpr std::int64_t lo = std::numeric_limits<Out>::min(), hi = std::numeric_limits<Out>::max();
    return static_cast<Out>(v < lo ? lo : v > hi ? hi : v);
  }

  /// round_half_even(acc * m * 2^-shift), saturated far beyond any 8-bit
  /// range (|result| <= 2^40).
  static std::int64_t round_scaled(std::int64_t acc, std::int64_t m, int shift) noexcept {
    constexpr std::int64_t kSaturate = std::int64_t{1} << 40;
    const std::int64_t p = acc * m;  // |p| < 2^31 * 2^24
    if (shift <= 0) {
      if (p == 0) return 0;
      if (-shift >= 16 || p >= kSaturate || p <= -kSaturate) return p > 0 ? kSaturate : -kSaturate;
      return p * (std::int64_t{1} << -shift);
    }
    if (shift > 56) return 0;  // |p| < 2^55 <= 2^(shift - 1): below half a unit
    const std::int64_t q = p >> shift;  // floor (arithmetic shift)
    const std::int64_t r = p - q * (std::int64_t{1} << shift);  // 0 <= r < 2^shift
    const std::int64_t half = std::int64_t{1} << (shift - 1);
    return (r > half || (r == half && (q & 1) != 0)) ? q + 1 : q;
  }

 private:
  std::vector<std::int64_t> mantissa_;
  std::vector<int> shift_;
  std::int32_t zero_point_ = 0;
};

}  // namespace sfc
