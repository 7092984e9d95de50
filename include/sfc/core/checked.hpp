#pragma once
/// \file
/// Overflow-checked `std::int64_t` arithmetic for size computations (element
/// counts, buffer offsets, operation counts). Two flavours:
///  - `checked_add/sub/mul/product` return `std::nullopt` on overflow;
///  - `add/sub/mul/product_or_throw` throw `sfc::Error` on overflow.
/// All are constexpr; an overflow in a constant expression is a compile error.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <sfc/core/error.hpp>
#include <string>

namespace sfc {

/// `a + b`, or `std::nullopt` if the sum does not fit `std::int64_t`.
[[nodiscard]] constexpr std::optional<std::int64_t> checked_add(std::int64_t a,
                                                                std::int64_t b) noexcept {
  std::int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) {
    return std::nullopt;
  }
  return result;
}

/// `a - b`, or `std::nullopt` if the difference does not fit `std::int64_t`.
[[nodiscard]] constexpr std::optional<std::int64_t> checked_sub(std::int64_t a,
                                                                std::int64_t b) noexcept {
  std::int64_t result = 0;
  if (__builtin_sub_overflow(a, b, &result)) {
    return std::nullopt;
  }
  return result;
}

/// `a * b`, or `std::nullopt` if the product does not fit `std::int64_t`.
[[nodiscard]] constexpr std::optional<std::int64_t> checked_mul(std::int64_t a,
                                                                std::int64_t b) noexcept {
  std::int64_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) {
    return std::nullopt;
  }
  return result;
}

/// Product of all `factors` (1 for an empty list), or `std::nullopt` if any
/// partial product overflows.
[[nodiscard]] constexpr std::optional<std::int64_t> checked_product(
    std::initializer_list<std::int64_t> factors) noexcept {
  std::int64_t result = 1;
  for (const std::int64_t factor : factors) {
    if (__builtin_mul_overflow(result, factor, &result)) {
      return std::nullopt;
    }
  }
  return result;
}

namespace detail {

[[noreturn]] inline void throw_overflow(const char* op, std::int64_t a, std::int64_t b) {
  throw Error("integer overflow: " + std::to_string(a) + " " + op + " " + std::to_string(b) +
              " does not fit int64");
}

}  // namespace detail

/// `a + b`; throws `sfc::Error` if the sum does not fit `std::int64_t`.
constexpr std::int64_t add_or_throw(std::int64_t a, std::int64_t b) {
  const auto result = checked_add(a, b);
  if (!result) {
    detail::throw_overflow("+", a, b);
  }
  return *result;
}

/// `a - b`; throws `sfc::Error` if the difference does not fit `std::int64_t`.
constexpr std::int64_t sub_or_throw(std::int64_t a, std::int64_t b) {
  const auto result = checked_sub(a, b);
  if (!result) {
    detail::throw_overflow("-", a, b);
  }
  return *result;
}

/// `a * b`; throws `sfc::Error` if the product does not fit `std::int64_t`.
constexpr std::int64_t mul_or_throw(std::int64_t a, std::int64_t b) {
  const auto result = checked_mul(a, b);
  if (!result) {
    detail::throw_overflow("*", a, b);
  }
  return *result;
}

/// Product of all `factors`; throws `sfc::Error` on overflow.
constexpr std::int64_t product_or_throw(std::initializer_list<std::int64_t> factors) {
  std::int64_t result = 1;
  for (const std::int64_t factor : factors) {
    result = mul_or_throw(result, factor);
  }
  return result;
}

}  // namespace sfc
