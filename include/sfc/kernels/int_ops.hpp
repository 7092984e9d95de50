#pragma once
/// \file
/// Integer vector arithmetic for the transforms of the int8 kernels, in the
/// form InputTransform / OutputTransform expect (see tile_transform.hpp):
/// `I16Ops<S>` for the data transform (int16 lanes, wrapping) and
/// `I64Ops<S>` for the output transform (int64 lanes). Coefficients must be
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
  static vec zero() noexcept { return S::zero_i64(); }
  static vec neg(vec a) noexcept { return S::neg_i64(a); }
  static vec add(vec a, vec b) noexcept { return S::add_i64(a, b); }
  static vec sub(vec a, vec b) noexcept { return S::sub_i64(a, b); }
  static vec scale(double c, vec x) noexcept { return S::mul_i64(static_cast<std::int64_t>(c), x); }
  static vec scale_add(double c, vec x, vec acc) noexcept { return add(acc, scale(c, x)); }
};

}  // namespace sfc::kernels
