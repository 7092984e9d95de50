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
/// Kernels: a portable one (plain integer loops) and, for AVX-512 with VNNI,
/// `vpdpwssd` (two int16 products added to each int32 lane per instruction).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"

namespace sfc::kernels {

namespace detail {

/// Portable micro-kernel: Rows x NR block over pairs [0, pairs).
template <class S, int Rows>
void s16_gemm_block_portable(int pairs, const std::int16_t* a, std::ptrdiff_t lda,
                             const std::int16_t* panel, std::int64_t* c, std::ptrdiff_t ldc,
                             bool accumulate) {
  constexpr int NR = S::s16_panel;
  for (int m = 0; m < Rows; ++m) {
    const std::int16_t* row = a + m * lda;
    std::int32_t acc[NR] = {};
    for (int p = 0; p < pairs; ++p) {
      const std::int32_t a0 = row[2 * p], a1 = row[2 * p + 1];
      const std::int16_t* b = panel + p * 2 * NR;
      for (int j = 0; j < NR; ++j) acc[j] += a0 * b[2 * j] + a1 * b[2 * j + 1];
    }
    std::int64_t* out = c + m * ldc;
    if (accumulate) {
      for (int j = 0; j < NR; ++j) out[j] += acc[j];
    } else {
      for (int j = 0; j < NR; ++j) out[j] = acc[j];
    }
  }
}

#if defined(SFC_SIMD_HAS_AVX512) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VNNI__)
/// AVX-512 VNNI micro-kernel `s16_gemm_<Rows>x32__avx512vnni`.
template <int Rows>
void s16_gemm_block_avx512vnni(int pairs, const std::int16_t* a, std::ptrdiff_t lda,
                               const std::int16_t* panel, std::int64_t* c, std::ptrdiff_t ldc,
                               bool accumulate) {
  __m512i acc[Rows][2];
  static_for<Rows>([&](auto m) { acc[m][0] = acc[m][1] = _mm512_setzero_si512(); });
  for (int p = 0; p < pairs; ++p) {
    const __m512i b0 = _mm512_loadu_si512(panel + p * 64);
    const __m512i b1 = _mm512_loadu_si512(panel + p * 64 + 32);
    static_for<Rows>([&](auto m) {
      std::int32_t pair;
      std::memcpy(&pair, a + m * lda + 2 * p, sizeof pair);
      const __m512i x = _mm512_set1_epi32(pair);
      acc[m][0] = _mm512_dpwssd_epi32(acc[m][0], x, b0);
      acc[m][1] = _mm512_dpwssd_epi32(acc[m][1], x, b1);
    });
  }
  static_for<Rows>([&](auto m) {
    static_for<2>([&](auto v) {
      std::int64_t* out = c + m * ldc + v * 16;
      __m512i lo = simd::Avx512::widen_i32(simd::Avx512::half_i32<0>(acc[m][v]));
      __m512i hi = simd::Avx512::widen_i32(simd::Avx512::half_i32<1>(acc[m][v]));
      if (accumulate) {
        lo = _mm512_add_epi64(lo, _mm512_loadu_si512(out));
        hi = _mm512_add_epi64(hi, _mm512_loadu_si512(out + 8));
      }
      _mm512_storeu_si512(out, lo);
      _mm512_storeu_si512(out + 8, hi);
    });
  });
}
#endif

template <class S, int Rows>
void s16_gemm_block(int pairs, const std::int16_t* a, std::ptrdiff_t lda, const std::int16_t* panel,
                    std::int64_t* c, std::ptrdiff_t ldc, bool accumulate) {
#if defined(SFC_SIMD_HAS_AVX512) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VNNI__)
  if constexpr (std::is_same_v<S, simd::Avx512>) {
    s16_gemm_block_avx512vnni<Rows>(pairs, a, lda, panel, c, ldc, accumulate);
    return;
  }
#endif
  s16_gemm_block_portable<S, Rows>(pairs, a, lda, panel, c, ldc, accumulate);
}

}  // namespace detail

/// C = A * B for one slot and one panel: `rows` rows of A (stride lda, K =
/// 2 * pairs int16 each), packed panel (pairs x 2 x NR), C int64 with stride
/// ldc; products summed in int32 over at most `chunk_pairs` pairs at a time.
template <class S>
void s16_gemm(int rows, int pairs, int chunk_pairs, const std::int16_t* a, std::ptrdiff_t lda,
              const std::int16_t* panel, std::int64_t* c, std::ptrdiff_t ldc) {
  constexpr int MR = S::s16_gemm_rows;
  constexpr int NR = S::s16_panel;
  using Block = void (*)(int, const std::int16_t*, std::ptrdiff_t, const std::int16_t*,
                         std::int64_t*, std::ptrdiff_t, bool);
  static constexpr auto blocks = []<int... I>(std::integer_sequence<int, I...>) {
    return std::array<Block, MR>{&detail::s16_gemm_block<S, I + 1>...};
  }(std::make_integer_sequence<int, MR>{});
  for (int p0 = 0; p0 < pairs; p0 += chunk_pairs) {
    const int n = pairs - p0 < chunk_pairs ? pairs - p0 : chunk_pairs;
    const std::int16_t* ap = a + 2 * p0;
    const std::int16_t* bp = panel + static_cast<std::ptrdiff_t>(p0) * 2 * NR;
    const bool accumulate = p0 > 0;
    int m = 0;
    for (; m + MR <= rows; m += MR)
      detail::s16_gemm_block<S, MR>(n, ap + m * lda, lda, bp, c + m * ldc, ldc, accumulate);
    if (m < rows)
      blocks[static_cast<std::size_t>(rows - m - 1)](n, ap + m * lda, lda, bp, c + m * ldc, ldc,
                                                     accumulate);
  }
}

}  // namespace sfc::kernels
