#pragma once
/// \file
/// Matrix transposition for the layout changes around the kernels (NCHW
/// planes to NHWC pixels and back): dst[j][i] = src[i][j] for a rows x cols
/// block, each side with its own row stride.
///
/// Four-byte elements go through 8 x 8 register transposes when the build
/// targets AVX2 (eight loads, 24 shuffles, eight stores per 64 elements);
/// everything else, and the edges, through 8 x 8 blocks of scalar copies,
/// which keep both sides' cache lines in use across a block.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace sfc::kernels {

namespace detail {

template <class T>
void transpose_scalar(const T* src, std::ptrdiff_t src_stride, T* dst, std::ptrdiff_t dst_stride,
                      std::int64_t rows, std::int64_t cols) {
  constexpr std::int64_t B = 8;
  for (std::int64_t i0 = 0; i0 < rows; i0 += B) {
    const std::int64_t i1 = std::min(rows, i0 + B);
    for (std::int64_t j0 = 0; j0 < cols; j0 += B) {
      const std::int64_t j1 = std::min(cols, j0 + B);
      for (std::int64_t j = j0; j < j1; ++j)
        for (std::int64_t i = i0; i < i1; ++i) dst[j * dst_stride + i] = src[i * src_stride + j];
    }
  }
}

#if defined(__AVX2__)
/// dst[j][i] = src[i][j] for one 8 x 8 block of floats.
inline void transpose_8x8(const float* src, std::ptrdiff_t src_stride, float* dst,
                          std::ptrdiff_t dst_stride) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * src_stride);
  // Pairs of rows interleaved, then quadruples, then the 128-bit halves.
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst + 0 * dst_stride, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + 1 * dst_stride, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * dst_stride, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * dst_stride, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * dst_stride, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * dst_stride, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * dst_stride, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * dst_stride, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

}  // namespace detail

/// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows, j < cols.
/// The two blocks must not overlap.
template <class T>
void transpose(const T* src, std::ptrdiff_t src_stride, T* dst, std::ptrdiff_t dst_stride,
               std::int64_t rows, std::int64_t cols) {
#if defined(__AVX2__)
  if constexpr (sizeof(T) == sizeof(float) && std::is_trivially_copyable_v<T>) {
    // Four-byte values are moved as float bit patterns (never converted).
    const auto* s = reinterpret_cast<const float*>(src);
    auto* d = reinterpret_cast<float*>(dst);
    const std::int64_t full_rows = rows / 8 * 8, full_cols = cols / 8 * 8;
    for (std::int64_t i = 0; i < full_rows; i += 8)
      for (std::int64_t j = 0; j < full_cols; j += 8)
        detail::transpose_8x8(s + i * src_stride + j, src_stride, d + j * dst_stride + i,
                              dst_stride);
    // The right edge (all rows), then the bottom edge (full columns only).
    detail::transpose_scalar(src + full_cols, src_stride, dst + full_cols * dst_stride, dst_stride,
                             rows, cols - full_cols);
    detail::transpose_scalar(src + full_rows * src_stride, src_stride, dst + full_rows, dst_stride,
                             rows - full_rows, full_cols);
    return;
  }
#endif
  detail::transpose_scalar(src, src_stride, dst, dst_stride, rows, cols);
}

}  // namespace sfc::kernels
