#pragma once
/// \file
/// Integer vector arithmetic for the transforms of the int8 kernels, in the
/// form InputTransform / OutputTransform expect (see tile_transform.hpp):
/// `I16Ops<S>` for the data transform (int16 lanes, wrapping) and
/// `I64Ops<S>` for the output transform (int64 lanes; `I32Ops<S>`, int32
/// lanes modulo 2^32, where the layer allows it). Coefficients must be
/// integers; the kernels static_assert that their maps are integral.

#include <cstdint>

namespace sfc::kernels {

template <class S>
struct I16Ops {
  using vec = typename S::i16;
  static vec zero() noexcept { return S::zero_i16(); }
  static vec neg(vec a) noexcept { return S::neg_i16(a); }
  static vec add(vec a, vec b) noexcept { return S::add_i16(a, b); }
  static vec sub(vec a, vec b) noexcept { return S::sub_i16(a, b); }
  static vec scale(double c, vec x) noexcept { return S::mul_i16(static_cast<std::int16_t>(c), x); }
  static vec scale_add(double c, vec x, vec acc) noexcept { return add(acc, scale(c, x)); }
};

template <class S>
struct I64Ops {
  using vec = typename S::i64;
  using value = std::int64_t;
  static constexpr int lanes = S::i64_lanes;
  static vec zero() noexcept { return S::zero_i64(); }
  static vec neg(vec a) noexcept { return S::neg_i64(a); }
  static vec add(vec a, vec b) noexcept { return S::add_i64(a, b); }
  static vec sub(vec a, vec b) noexcept { return S::sub_i64(a, b); }
  static vec scale(double c, vec x) noexcept { return S::mul_i64(static_cast<std::int64_t>(c), x); }
  static vec scale_add(double c, vec x, vec acc) noexcept { return add(acc, scale(c, x)); }
  static vec load(const value* p) noexcept { return S::load_i64(p); }
  static vec max(vec a, vec b) noexcept { return S::max_i64(a, b); }
  static vec exact_div(vec a, std::int64_t d) noexcept { return S::exact_div_i64(a, d); }
  /// Stores the low 32 bits of every lane (the caller guarantees they fit).
  static void store_i32(std::int32_t* p, vec a) noexcept { S::store_i64_as_i32(p, a); }
};

/// int32 lanes, wrapping: for the exact output transform of layers whose
/// output times the scale's power of two fits int32 (see ExactConv2d).
template <class S>
struct I32Ops {
  using vec = typename S::i32;
  using value = std::int32_t;
  static constexpr int lanes = S::i32_lanes;
  static vec zero() noexcept { return S::zero_i32(); }
  static vec neg(vec a) noexcept { return S::neg_i32(a); }
  static vec add(vec a, vec b) noexcept { return S::add_i32(a, b); }
  static vec sub(vec a, vec b) noexcept { return S::sub_i32(a, b); }
  static vec scale(double c, vec x) noexcept { return S::mul_i32(static_cast<std::int32_t>(c), x); }
  static vec scale_add(double c, vec x, vec acc) noexcept { return add(acc, scale(c, x)); }
  static vec load(const value* p) noexcept { return S::load_i32(p); }
  static vec max(vec a, vec b) noexcept { return S::max_i32(a, b); }
  static vec exact_div(vec a, std::int64_t d) noexcept { return S::exact_div_i32(a, static_cast<std::int32_t>(d)); }
  static void store_i32(std::int32_t* p, vec a) noexcept { S::store_i32(p, a); }
};

}  // namespace sfc::kernels
