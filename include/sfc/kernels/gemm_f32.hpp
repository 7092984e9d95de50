#pragma once
/// \file
/// The element-wise stage of fp32 fast convolution as a small GEMM per
/// transform slot: C[tiles x Cout] = A[tiles x Cin] * B[Cin x Cout].
///
/// B (the transformed weights of one slot) is packed once into panels of
/// `panel_width<S>` output channels: panel p holds B[k][p * NR + j] at
/// p * Cin * NR + k * NR + j, zero beyond Cout. A is row-major with a row
/// stride; C rows are written in full panels (the caller pads Cout).
///
/// The register block is S::gemm_rows rows x S::gemm_vectors vectors; each
/// step loads one row of the panel, broadcasts one A value per row and does
/// rows x vectors fused multiply-adds. Rows left over at the end of A run
/// through the same kernel instantiated for fewer rows.

#include <cstddef>
#include <cstdint>

#include "sfc/kernels/prefetch.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"

namespace sfc::kernels {

/// Output channels per packed weight panel for target S.
template <class S>
inline constexpr int panel_width = S::f32_lanes * S::gemm_vectors;

/// How far ahead (bytes) the micro-kernel asks for the packed weights
/// (kernels/prefetch.hpp). bench_gemm, AVX-512, 132 slots x 256 x 256
/// weights (34.6 MB, from memory): 36 tiles 4.5 -> 2.8 ms, 4 tiles 0.82 ->
/// 0.59 ms (8 KiB: 3.0, 0.65; 4 KiB: 3.1, 0.75).
inline constexpr std::uintptr_t kPrefetchBytes = 16384;

/// Micro-kernel `f32_gemm_<Rows>x<NR>__<S::name>`: C[Rows x NR] = A[Rows x k] * panel.
template <class S, int Rows>
void f32_gemm_block(int k, const float* a, std::ptrdiff_t lda, const float* panel, float* c,
                    std::ptrdiff_t ldc) {
  using V = typename S::f32;
  constexpr int NV = S::gemm_vectors;
  constexpr int W = S::f32_lanes;
  V acc[Rows][NV];
  static_for<Rows>([&](auto m) { static_for<NV>([&](auto v) { acc[m][v] = S::zero(); }); });
  for (int p = 0; p < k; ++p) {
    prefetch_ahead<kPrefetchBytes>(panel + p * NV * W);
    V b[NV];
    // In registers (S::in_register): with few rows GCC 12 otherwise folds
    // the loads into every multiply-add.
    static_for<NV>([&](auto v) { b[v] = S::in_register(S::load(panel + p * NV * W + v * W)); });
    static_for<Rows>([&](auto m) {
      const V x = S::broadcast(a[m * lda + p]);
      static_for<NV>([&](auto v) { acc[m][v] = S::fmadd(x, b[v], acc[m][v]); });
    });
  }
  static_for<Rows>([&](auto m) {
    static_for<NV>([&](auto v) { S::store(c + m * ldc + v * W, acc[m][v]); });
  });
}

/// C = A * B for one slot: `rows` rows of A (stride lda), k = Cin, `panels`
/// packed panels of B (each k x panel_width<S>), C with stride ldc.
template <class S>
void f32_gemm(int rows, int k, int panels, const float* a, std::ptrdiff_t lda, const float* b,
              float* c, std::ptrdiff_t ldc) {
  constexpr int NR = panel_width<S>;
  for (int p = 0; p < panels; ++p) {
    const float* panel = b + static_cast<std::ptrdiff_t>(p) * k * NR;
    float* cp = c + p * NR;
    for_each_row_block<S::gemm_rows>(rows, [&](auto block_rows, int m) {
      f32_gemm_block<S, decltype(block_rows)::value>(k, a + m * lda, lda, panel, cp + m * ldc, ldc);
    });
  }
}

}  // namespace sfc::kernels
