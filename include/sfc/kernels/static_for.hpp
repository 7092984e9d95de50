#pragma once
/// \file
/// `static_for<N>(f)`: calls f(std::integral_constant<int, i>{}) for i = 0..N-1,
/// unrolled at compile time. Kernels use it to turn the constexpr transform
/// matrices into straight-line code: inside `f`, `decltype(i)::value` is a
/// constant expression, so coefficients read from constexpr tables are
/// constants, and zero coefficients generate no code.

#include <type_traits>
#include <utility>

namespace sfc::kernels {

template <int N, class F>
inline __attribute__((always_inline)) void static_for(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) __attribute__((always_inline)) {
    (f(std::integral_constant<int, I>{}), ...);
  }(std::make_integer_sequence<int, N>{});
}

}  // namespace sfc::kernels
