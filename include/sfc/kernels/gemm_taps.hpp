#pragma once
/// \file
/// The element-wise stage of fp32 fast convolution with the weights
/// transformed on the fly, for layers with few tiles and many channels.
///
/// A layer with few tiles (batch 1 at 14x14 or 7x7) uses each transformed
/// weight a handful of times, and its T x Cin x Cout transformed weights
/// (34.6 MB for SFC-6(7x7) at 256 channels, 138 MB at 512) no longer fit any
/// cache: streaming them from memory sets its time (bench/RESULTS.md). Here
/// the kernel reads the R x R taps instead (T / R^2 = 14.7x fewer bytes for
/// SFC-6(7x7, 3x3)) and forms each slot's weight vector from them with the
/// additions of TileMaps::slot_taps (352 per input channel and output vector
/// for SFC-6(7x7, 3x3), next to 132 multiply-adds per tile).
///
/// Layouts: the taps of output vector v (S::f32_lanes output channels) are
/// packed as taps[((v * Cin + k) * R * R + e) * lanes + j] (zero beyond
/// Cout); the transformed data of tile t, slot q, input channel k sit at
/// a[t * lda + q * ldq + k] (the usual layout of the data transform); the
/// product of tile t, slot q, output vector v goes to c[t * ldc_t + q *
/// ldc_q] (lanes contiguous).
///
/// Measured (bench/RESULTS.md): each broadcast data value feeds one
/// multiply-add here, and on Zen 5 the kernel runs at ~45% of the core's
/// fp32 multiply-add peak; it pays where the transformed weights would
/// stream from memory, not elsewhere (detail::weights_on_the_fly_pays).

#include <algorithm>
#include <cstddef>

#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"
#include "sfc/kernels/tile_transform.hpp"

namespace sfc::kernels {

/// Tiles per register block of the on-the-fly kernel (a call with more
/// tiles runs several blocks, each forming the weights again).
inline constexpr int kTapsRows = 4;

/// Accumulators per slot group: the target's GEMM register block less 4
/// (for the weight being formed and the taps): 20 on AVX-512, 8 on AVX2.
template <class S>
inline constexpr int taps_accumulators = std::max(4, S::gemm_rows * S::gemm_vectors - 4);

/// Micro-kernel `taps_gemm_<Rows>__<S::name>`: every slot's products of
/// `Rows` tiles for one output vector. Slots run in groups of about
/// taps_accumulators<S> accumulators; per input channel each slot's weight
/// vector is formed from the taps, then multiplied into every tile's
/// accumulator.
template <class S, class A2, int Rows>
void taps_gemm_block(int cin, const float* taps, const float* a, std::ptrdiff_t lda,
                     std::ptrdiff_t ldq, float* c, std::ptrdiff_t ldc_t, std::ptrdiff_t ldc_q) {
  using V = typename S::f32;
  using Ops = F32Ops<S>;
  using Maps = TileMaps<A2>;
  constexpr int T = Maps::T, RR = Maps::R * Maps::R, W = S::f32_lanes;
  constexpr int group = std::max(1, taps_accumulators<S> / Rows);
#if SFC_UNROLL_TRANSFORMS
  constexpr int groups = (T + group - 1) / group;
  static_for<groups>([&](auto g) {
    constexpr int q0 = decltype(g)::value * group;
    constexpr int n = std::min(group, T - q0);
    V acc[n][Rows];
    static_for<n>([&](auto s) { static_for<Rows>([&](auto t) { acc[s][t] = S::zero(); }); });
    for (int k = 0; k < cin; ++k) {
      const float* tap = taps + static_cast<std::ptrdiff_t>(k) * RR * W;
      auto load = [&](int e) { return S::load(tap + e * W); };
      const float* x = a + k;
      static_for<n>([&](auto s) {
        constexpr int q = q0 + decltype(s)::value;
        const V w = detail::sparse_row<Ops, Maps::slot_taps, q, 1>(load);
        static_for<Rows>([&](auto t) {
          acc[s][t] = S::fmadd(S::broadcast(x[t * lda + q * ldq]), w, acc[s][t]);
        });
      });
    }
    static_for<n>([&](auto s) {
      static_for<Rows>([&](auto t) { S::store(c + t * ldc_t + (q0 + s) * ldc_q, acc[s][t]); });
    });
  });
#else
  // Loops for unoptimized builds (see detail::sparse_rows_loop): the same
  // operations in the same order, without unrolling 100+ slots per block.
  for (int q0 = 0; q0 < T; q0 += group) {
    const int n = std::min(group, T - q0);
    V acc[group][Rows];
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < Rows; ++t) acc[s][t] = S::zero();
    for (int k = 0; k < cin; ++k) {
      const float* tap = taps + static_cast<std::ptrdiff_t>(k) * RR * W;
      auto load = [&](int e) { return S::load(tap + e * W); };
      const float* x = a + k;
      for (int s = 0; s < n; ++s) {
        const int q = q0 + s;
        V w = S::zero();
        auto keep = [&](int, V v) { w = v; };
        detail::sparse_rows_loop<Ops, Maps::slot_taps, 1>(q, 1, load, keep);
        for (int t = 0; t < Rows; ++t) acc[s][t] = S::fmadd(S::broadcast(x[t * lda + q * ldq]), w, acc[s][t]);
      }
    }
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < Rows; ++t) S::store(c + t * ldc_t + (q0 + s) * ldc_q, acc[s][t]);
  }
#endif
}

/// Every slot's products of `rows` tiles for one output vector (see the
/// file comment for the layouts).
template <class S, class A2>
void taps_gemm(int rows, int cin, const float* taps, const float* a, std::ptrdiff_t lda,
               std::ptrdiff_t ldq, float* c, std::ptrdiff_t ldc_t, std::ptrdiff_t ldc_q) {
  for_each_row_block<kTapsRows>(rows, [&](auto block_rows, int m) {
    taps_gemm_block<S, A2, decltype(block_rows)::value>(cin, taps, a + m * lda, lda, ldq,
                                                        c + m * ldc_t, ldc_t, ldc_q);
  });
}

}  // namespace sfc::kernels
