#pragma once
/// \file
/// The element-wise stage of fast convolution with the weights transformed
/// on the fly, for layers with few tiles and many channels: fp32, and the
/// exact int8 operator's int16 products.
///
/// A layer with few tiles (batch 1 at 14x14 or 7x7) uses each transformed
/// weight a handful of times, and its T x Cin x Cout transformed weights
/// (34.6 MB of float for SFC-6(7x7) at 256 channels, 138 MB at 512; half as
/// many bytes of int16) no longer fit any cache: streaming them from memory
/// sets its time (bench/RESULTS.md). Here the kernel reads the R x R taps
/// instead (T / R^2 = 14.7x fewer bytes for SFC-6(7x7, 3x3)) and forms each
/// slot's weight vector from them with the additions of
/// TileMaps::slot_taps (352 per input channel, or int16 channel pair, and
/// output vector for SFC-6(7x7, 3x3), next to 132 multiply-adds per tile).
/// SFC's slot_taps coefficients are +-1, so the int16 weights formed from
/// int8 taps are the exact transformed weights (they fit int16: layers/
/// conv2d_int8.hpp), whatever wraps on the way.
///
/// Layouts (P = TapsF32<S> or TapsS16<S>): the taps of output vector v are
/// packed as taps[((v * Cin / step + k) * R * R + e) * tap_values + j]
/// (zero beyond Cout and Cin): fp32 k a channel, j an output channel; int16
/// k a channel pair, j = 2 * output channel + (0, 1) for the pair's
/// channels. The transformed data are laid out for this kernel (TapsData):
/// a block's tiles in groups of kTapsRows, the last tiles % kTapsRows tiles
/// each a group of its own, and within a group, per chunk of `lanes` input
/// channels, slot by slot, the group's tiles side by side, so that every
/// broadcast of a register block sits at a constant offset from one
/// pointer. A group is one register block: the kernel is compiled for two
/// block heights only, 1 and kTapsRows tiles (GCC 12 takes ~3 s per height
/// and operator on AVX-512, ~8 s on the portable target), and each tile
/// beyond a block's last whole group forms the weights once more
/// (taps_formations; the automatic choice counts it). The product of tile
/// t, slot q, output vector v
/// goes to c[t * ldc_t + q * ldc_q] (lanes contiguous).
///
/// Measured (bench/RESULTS.md): each broadcast data value (pair) feeds one
/// multiply-add here; on Zen 5 the fp32 kernel runs at ~60% of the core's
/// multiply-add peak (the broadcasts and the taps' loads set the pace); it
/// pays where the transformed weights would stream from memory, not
/// elsewhere (detail::weights_on_the_fly_pays).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sfc/kernels/int_ops.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"
#include "sfc/kernels/tile_transform.hpp"

namespace sfc::kernels {

/// Tiles per register block of the on-the-fly kernel, and per group of its
/// data layout (a call with more tiles runs several blocks, each forming
/// the weights again).
inline constexpr int kTapsRows = 4;

/// Times the on-the-fly kernel forms each weight vector for a block of
/// `tiles` tiles: once per group of kTapsRows, once per tile after them.
constexpr std::int64_t taps_formations(std::int64_t tiles) noexcept {
  return tiles / kTapsRows + tiles % kTapsRows;
}

/// Additions per slot (on average) of forming the weights from the taps.
template <class A2>
inline constexpr double taps_adds_per_slot =
    static_cast<double>(TileMaps<A2>::slot_taps.nnz - TileMaps<A2>::T) / TileMaps<A2>::T;

/// Accumulators per slot group: the target's GEMM register block less 4
/// (for the weight being formed and the taps): 20 on AVX-512, 8 on AVX2.
template <class S>
inline constexpr int taps_accumulators = std::max(4, S::gemm_rows * S::gemm_vectors - 4);

/// Where the on-the-fly kernel reads the transformed data of a block of
/// `tiles` tiles with `cp` padded input channels (a multiple of Lanes) and T
/// slots: groups of kTapsRows tiles, then one group per remaining tile,
/// each holding, per chunk of Lanes channels and slot, its tiles' chunks
/// side by side. Lanes: the data values per vector (S::f32_lanes floats,
/// S::i16_lanes int16 values).
template <class S, int Lanes = S::f32_lanes>
struct TapsData {
  std::ptrdiff_t tiles, T, cp;

  /// Tiles in the groups of kTapsRows.
  std::ptrdiff_t grouped() const { return tiles / kTapsRows * kTapsRows; }
  /// First tile of the group of tile t.
  std::ptrdiff_t group_start(std::ptrdiff_t t) const {
    return t < grouped() ? t / kTapsRows * kTapsRows : t;
  }
  /// Tiles in the group of tile t (kTapsRows or 1).
  std::ptrdiff_t group_size(std::ptrdiff_t t) const { return t < grouped() ? kTapsRows : 1; }
  /// Element (tile t, slot q, input channel chunk * Lanes + j) sits at
  /// offset(t, chunk) + q * group_size(t) * Lanes + j.
  std::ptrdiff_t offset(std::ptrdiff_t t, std::ptrdiff_t chunk) const {
    const std::ptrdiff_t first = group_start(t);
    return first * T * cp + (chunk * T * group_size(t) + t - first) * Lanes;
  }
};

/// The element types of the on-the-fly kernel. fp32: per input channel,
/// each weight vector (f32_lanes output channels) multiplies one broadcast
/// data value.
template <class S>
struct TapsF32 {
  using data = float;
  using tap = float;
  using product = float;
  using weights = typename S::f32;
  using acc = typename S::f32;
  using Ops = F32Ops<S>;
  static constexpr int lanes = S::f32_lanes;       ///< data values per chunk (TapsData's Lanes)
  static constexpr int step = 1;                   ///< input channels per multiply
  static constexpr int tap_values = S::f32_lanes;  ///< values of one tap vector
  static acc zero() noexcept { return S::zero(); }
  static weights load(const tap* p) noexcept {
    if constexpr (S::vector_registers >= 32) {
      return S::in_register(S::load(p));
    } else {
      return S::load(p);
    }
  }
  static acc multiply_add(const data* x, weights w, acc a) noexcept {
    return S::fmadd(S::broadcast(*x), w, a);
  }
  static void store(product* c, acc a) noexcept { S::store(c, a); }
};

/// Exact int8 (kernels in int16): per pair of input channels, each weight
/// vector (i32_lanes output channels x the pair, int16) multiplies the
/// pair's two broadcast data values, summed per output channel in wrapping
/// int32 (the operator's int32 product path, layers/conv2d_int8.hpp).
template <class S>
struct TapsS16 {
  using data = std::int16_t;
  using tap = std::int16_t;
  using product = std::int32_t;
  using weights = typename S::i16;
  using acc = typename S::i32;
  using Ops = I16Ops<S>;
  static constexpr int lanes = S::i16_lanes;
  static constexpr int step = 2;
  static constexpr int tap_values = S::i16_lanes;
  static acc zero() noexcept { return S::zero_i32(); }
  static weights load(const tap* p) noexcept {
    if constexpr (S::vector_registers >= 32) {
      return S::opaque(S::load_i16(p));
    } else {
      return S::load_i16(p);
    }
  }
  static acc multiply_add(const data* x, weights w, acc a) noexcept {
    std::int32_t pair;
    std::memcpy(&pair, x, sizeof pair);
    return S::dot_pairs_i32(a, pair, w);
  }
  static void store(product* c, acc a) noexcept { S::store_i32(c, a); }
};

namespace detail {

/// The taps that slots [first, first + count) are formed from.
template <class Maps>
constexpr std::array<bool, Maps::R * Maps::R> taps_used(int first, int count) {
  std::array<bool, Maps::R * Maps::R> used{};
  for (int q = first; q < first + count; ++q)
    for (int i = Maps::slot_taps.begin[q]; i < Maps::slot_taps.begin[q + 1]; ++i)
      used[Maps::slot_taps.col[i]] = true;
  return used;
}

}  // namespace detail

/// Micro-kernel `taps_gemm_<Rows>__<S::name>` (P = TapsF32<S> or
/// TapsS16<S>): every slot's products of the `Rows` tiles of one group of
/// the data layout (at `a`) for one output vector, over `cin` input
/// channels (a multiple of P::step); tiles [lo, hi) of the group are stored
/// (tile lo at c). Slots run in groups of about taps_accumulators<S>
/// accumulators; per input channel (pair) the taps the group uses are
/// loaded once (kept in registers where the target has 32 of them:
/// otherwise GCC 12 folds a load into every addition, and the loads set the
/// pace: SFC-6(7x7) fp32 at batch-1 C=256@14, 0.59 -> 0.49 ms on Zen 5),
/// each slot's weight vector is formed from them and multiplied into every
/// tile's accumulator.
template <class P, class S, class A2, int Rows>
void taps_gemm_block(int cin, const typename P::tap* taps, const typename P::data* a, int lo,
                     int hi, typename P::product* c, std::ptrdiff_t ldc_t, std::ptrdiff_t ldc_q) {
  using V = typename P::weights;
  using Acc = typename P::acc;
  using Ops = typename P::Ops;
  using Maps = TileMaps<A2>;
  constexpr int T = Maps::T, RR = Maps::R * Maps::R, W = P::lanes;
  constexpr int group = std::max(1, taps_accumulators<S> / Rows);
  constexpr std::ptrdiff_t ldq = std::ptrdiff_t{Rows} * W;  // slot to slot
  constexpr std::ptrdiff_t ldk = T * ldq;                   // channel chunk to chunk
  // Channel k = k0 + j of the data at x[j] with x = a + k0 / W * ldk; the
  // taps of channels k .. k + step - 1 at taps + k / step * RR * tap_values.
  const auto taps_of = [&](int k) {
    return taps + static_cast<std::ptrdiff_t>(k / P::step) * RR * P::tap_values;
  };
#if SFC_UNROLL_TRANSFORMS
  constexpr int groups = (T + group - 1) / group;
  // Channel chunk by channel chunk, every slot group, so that the chunk's
  // taps stay in L1 (a whole layer's, 147 KB at 256 channels, would stream
  // from L2 once per slot group); the sums so far wait in `partial`.
  Acc partial[T][Rows];
  const int chunks = (cin + W - 1) / W;
  for (int chunk = 0; chunk < chunks; ++chunk) {
    const int k0 = chunk * W;
    const typename P::data* x0 = a + static_cast<std::ptrdiff_t>(chunk) * ldk;
    const int lanes = std::min(W, cin - k0);
    const bool first = chunk == 0, last = chunk == chunks - 1;
    static_for<groups>([&](auto g) {
      constexpr int q0 = decltype(g)::value * group;
      constexpr int n = std::min(group, T - q0);
      constexpr auto used = detail::taps_used<Maps>(q0, n);
      Acc acc[n][Rows];
      static_for<n>([&](auto s) {
        static_for<Rows>([&](auto t) { acc[s][t] = first ? P::zero() : partial[q0 + s][t]; });
      });
      const typename P::data* x = x0;
      for (int j = 0; j < lanes; j += P::step, x += P::step) {
        const typename P::tap* tap = taps_of(k0 + j);
        V tv[RR];
        static_for<RR>([&](auto e) {
          if constexpr (used[decltype(e)::value]) tv[e] = P::load(tap + e * P::tap_values);
        });
        auto load = [&](int e) { return tv[e]; };
        static_for<n>([&](auto s) {
          constexpr int q = q0 + decltype(s)::value;
          const V w = detail::sparse_row<Ops, Maps::slot_taps, q, 1>(load);
          static_for<Rows>(
              [&](auto t) { acc[s][t] = P::multiply_add(x + q * ldq + t * W, w, acc[s][t]); });
        });
      }
      static_for<n>([&](auto s) {
        static_for<Rows>([&](auto t) {
          if (!last) {
            partial[q0 + s][t] = acc[s][t];
          } else if (t >= lo && t < hi) {
            P::store(c + (t - lo) * ldc_t + (q0 + s) * ldc_q, acc[s][t]);
          }
        });
      });
    });
  }
#else
  // Loops for unoptimized builds (see detail::sparse_rows_loop): the same
  // operations in the same order, without unrolling 100+ slots per block.
  for (int q0 = 0; q0 < T; q0 += group) {
    const int n = std::min(group, T - q0);
    Acc acc[group][Rows];
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < Rows; ++t) acc[s][t] = P::zero();
    for (int k0 = 0; k0 < cin; k0 += W) {
      const typename P::data* x = a + static_cast<std::ptrdiff_t>(k0 / W) * ldk;
      const int lanes = std::min(W, cin - k0);
      for (int j = 0; j < lanes; j += P::step, x += P::step) {
        const typename P::tap* tap = taps_of(k0 + j);
        auto load = [&](int e) { return P::load(tap + e * P::tap_values); };
        for (int s = 0; s < n; ++s) {
          const int q = q0 + s;
          V w = Ops::zero();
          auto keep = [&](int, V v) { w = v; };
          detail::sparse_rows_loop<Ops, Maps::slot_taps, 1>(q, 1, load, keep);
          for (int t = 0; t < Rows; ++t)
            acc[s][t] = P::multiply_add(x + q * ldq + t * W, w, acc[s][t]);
        }
      }
    }
    for (int s = 0; s < n; ++s)
      for (int t = lo; t < hi; ++t) P::store(c + (t - lo) * ldc_t + (q0 + s) * ldc_q, acc[s][t]);
  }
#endif
}

/// Every slot's products of tiles [begin, end) for one output vector: `a`
/// the data of the block as `data` lays them out, c the products of tile
/// `begin` (see the file comment for the layouts). Each register block is
/// one group of the layout; a range that starts or ends inside a group
/// computes the whole group and stores its own tiles (the same operations
/// for every tile, whichever range holds it).
template <class S, class A2, class P = TapsF32<S>>
void taps_gemm(int begin, int end, int cin, const TapsData<S, P::lanes>& data,
               const typename P::tap* taps, const typename P::data* a, typename P::product* c,
               std::ptrdiff_t ldc_t, std::ptrdiff_t ldc_q) {
  for (int m = begin; m < end;) {
    const int first = static_cast<int>(data.group_start(m));
    const int size = static_cast<int>(data.group_size(m));
    const int stop = std::min(end, first + size);
    const typename P::data* x = a + data.offset(first, 0);
    typename P::product* out = c + (m - begin) * ldc_t;
    if (size == kTapsRows) {
      taps_gemm_block<P, S, A2, kTapsRows>(cin, taps, x, m - first, stop - first, out, ldc_t,
                                           ldc_q);
    } else {
      taps_gemm_block<P, S, A2, 1>(cin, taps, x, 0, 1, out, ldc_t, ldc_q);
    }
    m = stop;
  }
}

}  // namespace sfc::kernels
