#pragma once
/// \file
/// `static_for<N>(f)`: calls f(std::integral_constant<int, i>{}) for i = 0..N-1,
/// unrolled at compile time. Kernels use it to turn the constexpr transform
/// matrices into straight-line code: inside `f`, `decltype(i)::value` is a
/// constant expression, so coefficients read from constexpr tables are
/// constants, and zero coefficients generate no code.
///
/// `for_each_row_block<MR>(rows, block)`: the row loop of every GEMM driver.

#include <type_traits>
#include <utility>

namespace sfc::kernels {

template <int N, class F>
inline __attribute__((always_inline)) void static_for(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) __attribute__((always_inline)) {
    (f(std::integral_constant<int, I>{}), ...);
  }(std::make_integer_sequence<int, N>{});
}

/// Covers rows [0, rows) with register blocks of MR rows: calls
/// block(std::integral_constant<int, MR>{}, m) for each whole block starting
/// at row m, then block(std::integral_constant<int, rest>{}, m) once for the
/// 1 <= rest < MR rows left over. A micro-kernel is a template on its row
/// count, so every count up to MR is instantiated.
template <int MR, class Block>
void for_each_row_block(int rows, Block&& block) {
  int m = 0;
  for (; m + MR <= rows; m += MR) block(std::integral_constant<int, MR>{}, m);
  const int rest = rows - m;
  if constexpr (MR > 1) {
    static_for<MR - 1>([&](auto r) {
      if (rest == r + 1) block(std::integral_constant<int, r + 1>{}, m);
    });
  }
}

}  // namespace sfc::kernels
