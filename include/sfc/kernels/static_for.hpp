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

/// Covers rows [0, rows) with as few register blocks of at most MR rows as
/// possible, of sizes differing by at most one (20 rows with MR = 12: 10 +
/// 10, not 12 + 8; 16: 8 + 8, not 12 + 4): calls block(std::integral_constant
/// <int, size>{}, m) for the block starting at row m. A micro-kernel is a
/// template on its row count, so every count up to MR is instantiated.
template <int MR, class Block>
void for_each_row_block(int rows, Block&& block) {
  if (rows <= 0) return;
  const int blocks = (rows + MR - 1) / MR;
  const int base = rows / blocks, larger = rows % blocks;  // `larger` blocks of base + 1
  int m = 0;
  for (int b = 0; b < blocks; ++b) {
    const int size = base + (b < larger ? 1 : 0);
    static_for<MR>([&](auto r) {
      if (size == r + 1) block(std::integral_constant<int, r + 1>{}, m);
    });
    m += size;
  }
}

}  // namespace sfc::kernels
