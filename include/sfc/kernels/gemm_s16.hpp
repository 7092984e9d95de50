#pragma once
/// \file
/// The element-wise stage of exact int8 fast convolution: per transform slot,
/// C[tiles x Cout] (int64) = A[tiles x Cin] (int16) * B[Cin x Cout] (int16).
///
/// Products are summed in int32 over chunks of at most `chunk_pairs` pairs of
/// input channels (the caller derives the chunk from the algorithm's growth
/// bounds, so no int32 sum can overflow), then widened and added into C.
/// B is packed once into panels of S::s16_panel output channels, input
/// channels in pairs: panel p holds, for channel pair k, the 2 * NR values
/// B[2k][j], B[2k+1][j] for j < NR at p * K * NR + k * 2 * NR + 2 * j (+1),
/// zero beyond Cout; K (the padded Cin) is even. A rows hold K int16 values
/// (zero beyond Cin).
///
/// The micro-kernels live with their ISA (kernels/simd/<isa>.hpp):
/// `S::s16_block<Rows>` computes a Rows x S::s16_panel block of C. The
/// portable one uses plain integer loops; AVX-512 VNNI uses `vpdpwssd`.

#include <cstddef>
#include <cstdint>

#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"

namespace sfc::kernels {

/// C = A * B for one slot and one panel: `rows` rows of A (stride lda, K =
/// 2 * pairs int16 each), packed panel (pairs x 2 x NR), C int64 with stride
/// ldc; products summed in int32 over at most `chunk_pairs` pairs at a time.
template <class S>
void s16_gemm(int rows, int pairs, int chunk_pairs, const std::int16_t* a, std::ptrdiff_t lda,
              const std::int16_t* panel, std::int64_t* c, std::ptrdiff_t ldc) {
  constexpr int NR = S::s16_panel;
  for (int p0 = 0; p0 < pairs; p0 += chunk_pairs) {
    const int n = pairs - p0 < chunk_pairs ? pairs - p0 : chunk_pairs;
    const std::int16_t* ap = a + 2 * p0;
    const std::int16_t* bp = panel + static_cast<std::ptrdiff_t>(p0) * 2 * NR;
    const bool accumulate = p0 > 0;
    for_each_row_block<S::s16_gemm_rows>(rows, [&](auto block_rows, int m) {
      S::template s16_block<decltype(block_rows)::value>(n, ap + m * lda, lda, bp, c + m * ldc, ldc,
                                                         accumulate);
    });
  }
}

/// As s16_gemm with int32 products: C int32, one pass over all pairs, sums
/// modulo 2^32 (the caller guarantees what it needs of them, see
/// ExactConv2d).
template <class S>
void s16_gemm_i32(int rows, int pairs, const std::int16_t* a, std::ptrdiff_t lda, const std::int16_t* panel,
                  std::int32_t* c, std::ptrdiff_t ldc) {
  for_each_row_block<S::s16_gemm_rows>(rows, [&](auto block_rows, int m) {
    S::template s16_block_i32<decltype(block_rows)::value>(pairs, a + m * lda, lda, panel, c + m * ldc, ldc);
  });
}

}  // namespace sfc::kernels
