#pragma once
/// \file
/// What every tiled convolution operator shares, whatever its data type:
/// the tile grid of a shape, how tiles are grouped into blocks, and the
/// staging copies between the caller's layout and the kernels' layout.
///
/// Kernels read input windows from a staged image: NHWC, zero-padded so that
/// every tile (including the partial ones at the right and bottom borders)
/// reads a full L x L window, with channels padded to a whole number of SIMD
/// vectors. They write whole M x M output tiles into a staged NHWC output
/// with padded channels, which is then cropped into the caller's layout.
/// Staging removes every border and channel-tail case from the kernels.
///
/// Several images are staged together (an image group) when one image has
/// too few tiles to reuse the transformed weights well.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "sfc/core/checked.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/core/parallel.hpp"
#include "sfc/kernels/transpose.hpp"

namespace sfc::detail {

/// ceil(x / d) for x >= 0, d > 0, without overflow.
inline std::int64_t ceil_div(std::int64_t x, std::int64_t d) {
  return x / d + (x % d != 0 ? 1 : 0);
}

inline std::int64_t round_up(std::int64_t x, std::int64_t multiple) {
  return mul_or_throw(ceil_div(x, multiple), multiple);
}

/// Geometry of one tiled convolution: sizes in elements, fixed at plan time.
struct TileGeometry {
  int M = 0, R = 0, L = 0, T = 0;  ///< output tile, kernel, input tile, slots per tile
  std::int64_t batch = 0, in_channels = 0, out_channels = 0;
  std::int64_t in_channels_padded = 0;   ///< multiple of the input vector width
  std::int64_t out_channels_padded = 0;  ///< multiple of the GEMM panel width
  std::int64_t height = 0, width = 0, out_height = 0, out_width = 0;
  std::int64_t pad_top = 0, pad_left = 0;
  std::int64_t tiles_h = 0, tiles_w = 0, tiles_per_image = 0;
  std::int64_t staged_in_h = 0, staged_in_w = 0;    ///< tiles * M + R - 1
  std::int64_t staged_out_h = 0, staged_out_w = 0;  ///< tiles * M
  std::int64_t images_per_group = 1;
  std::int64_t tiles_per_block = 1;

  // Workspace parts, in elements.
  std::int64_t staged_input_elements() const {
    return product_or_throw({images_per_group, staged_in_h, staged_in_w, in_channels_padded});
  }
  std::int64_t staged_output_elements() const {
    return product_or_throw({images_per_group, staged_out_h, staged_out_w, out_channels_padded});
  }
  std::int64_t transformed_input_elements() const {
    return product_or_throw({T, tiles_per_block, in_channels_padded});
  }
  std::int64_t products_elements() const {
    return product_or_throw({T, tiles_per_block, out_channels_padded});
  }
};

/// Limits of the blocking heuristics.
struct BlockingPolicy {
  int in_lanes = 1;         ///< input channel padding (SIMD vector width)
  int out_multiple = 1;     ///< output channel padding (GEMM panel width)
  int gemm_rows = 1;        ///< tiles per GEMM register block
  std::int64_t input_bytes = 4;    ///< bytes of one transformed input value
  std::int64_t product_bytes = 4;  ///< bytes of one product (per output channel)
  // Measured on SFC-6(7x7,3x3), batch 8, C = 64@56, 128@28, 256@14 (AVX-512):
  // 24-48 tiles per block beat 12 (too little weight reuse) and 120 (the
  // transformed tiles fall out of L2) by 10-30%. The byte budget only stops
  // very wide layers: every block streams all T x Cin x Cout transformed
  // weights, which outweigh the block's own data from C = 256 on (a 4 MiB
  // budget made the batch-8 C=512@7 layer 1.3-1.6x slower, exact int8 and
  // fp32 SFC-6(6x6), on the AVX2 machine of bench/RESULTS.md).
  std::int64_t max_block_bytes = std::int64_t{32} << 20;  ///< transformed data and products of one block
  std::int64_t max_tiles_per_block = 36;
  // A tighter budget, for operators that set it (0: none): where a block's
  // transformed data and products outgrow it, its GEMM slows down (fp32
  // SFC-6(7x7), 132 x Cin x 4 bytes of data per tile and as many of
  // products: at C = 256, bench_gemm's rate with 32-48 tiles is 70-85% of
  // its rate with 12-24). It applies only where streaming the transformed
  // weights once more per extra block costs less than that: weights of at
  // most kWeightsPerCachedBlock x the budget. Measured on the Intel Xeon of
  // bench/RESULTS.md (2 MiB L2, "Blocks sized by bytes"), fp32 SFC-6(7x7)
  // batch 8, 1 thread: C=256@14 (weights 34.6 MB) 7.6 -> 6.1 ms with 24
  // instead of 32 tiles per block; VGG C=512@28 (138 MB), where the budget
  // would split 16 tiles into 12 + 4, 20 -> 30 ms.
  std::int64_t cached_block_bytes = 0;
  std::int64_t weight_bytes = 0;  ///< bytes of one transformed weight
};

/// See BlockingPolicy::cached_block_bytes.
inline constexpr std::int64_t kWeightsPerCachedBlock = 8;

/// make_tile_geometry's work; its sfc::Error names the overflowing operation.
inline TileGeometry make_tile_geometry_unchecked(const Conv2dShape& shape, int M, int R, int T,
                                                 const BlockingPolicy& policy) {
  TileGeometry g;
  g.M = M;
  g.R = R;
  g.L = M + R - 1;
  g.T = T;
  g.batch = shape.batch;
  g.in_channels = shape.in_channels;
  g.out_channels = shape.out_channels;
  g.in_channels_padded = round_up(shape.in_channels, policy.in_lanes);
  g.out_channels_padded = round_up(shape.out_channels, policy.out_multiple);
  g.height = shape.height;
  g.width = shape.width;
  g.out_height = shape.output_height();
  g.out_width = shape.output_width();
  g.pad_top = shape.pad_top;
  g.pad_left = shape.pad_left;
  g.tiles_h = ceil_div(g.out_height, M);
  g.tiles_w = ceil_div(g.out_width, M);
  g.tiles_per_image = mul_or_throw(g.tiles_h, g.tiles_w);
  g.staged_out_h = mul_or_throw(g.tiles_h, M);
  g.staged_out_w = mul_or_throw(g.tiles_w, M);
  g.staged_in_h = add_or_throw(g.staged_out_h, R - 1);
  g.staged_in_w = add_or_throw(g.staged_out_w, R - 1);

  // Tiles per block: as many as fit the budget for transformed data and
  // products (more tiles = more reuse of each transformed weight), a whole
  // number of GEMM register blocks, at least one register block.
  const std::int64_t per_tile =
      mul_or_throw(T, add_or_throw(mul_or_throw(g.in_channels_padded, policy.input_bytes),
                                   mul_or_throw(g.out_channels_padded, policy.product_bytes)));
  std::int64_t budget = policy.max_block_bytes;
  if (policy.cached_block_bytes > 0) {
    const std::int64_t weights =
        product_or_throw({T, g.in_channels_padded, g.out_channels_padded, policy.weight_bytes});
    if (weights / kWeightsPerCachedBlock <= policy.cached_block_bytes)
      budget = std::min(budget, policy.cached_block_bytes);
  }
  std::int64_t tiles = std::min(policy.max_tiles_per_block, budget / per_tile);
  tiles = std::max<std::int64_t>(policy.gemm_rows, tiles / policy.gemm_rows * policy.gemm_rows);
  const std::int64_t total_tiles = mul_or_throw(g.batch, g.tiles_per_image);
  g.tiles_per_block = std::min(tiles, total_tiles);
  // Stage enough images to fill one block.
  g.images_per_group =
      std::min(g.batch, std::max<std::int64_t>(1, (g.tiles_per_block + g.tiles_per_image - 1) /
                                                      g.tiles_per_image));
  // Validate every workspace size now, so run() cannot overflow.
  const std::int64_t elements =
      add_or_throw(add_or_throw(g.staged_input_elements(), g.staged_output_elements()),
                   add_or_throw(g.transformed_input_elements(), g.products_elements()));
  (void)add_or_throw(mul_or_throw(elements, 8), std::int64_t{1} << 12);
  return g;
}

/// The tile grid and blocking of a valid `shape` for an algorithm with output
/// tile M, kernel R and T slots. Throws sfc::Error, prefixed by `who`, if a
/// size overflows (also a workspace of 8 bytes per element: the operators'
/// byte counts cannot overflow after this).
inline TileGeometry make_tile_geometry(std::string_view who, const Conv2dShape& shape, int M, int R,
                                       int T, const BlockingPolicy& policy) {
  try {
    return make_tile_geometry_unchecked(shape, M, R, T, policy);
  } catch (const Error& e) {
    throw Error(std::string(who) + ": the tiled buffers of " + shape.to_string() +
                " overflow int64 (" + e.what() + ")");
  }
}

/// Copies images [first, first + count) of `input` (layout `layout`) into the
/// staged input: NHWC, pad_top/pad_left rows/columns of `pad` (the value
/// meaning zero: 0, or a zero point) before the data, `pad` after it up to
/// the staged size, channels padded with `pad` too (their weights are zero).
/// Must be called by every thread of a parallel region (or outside one).
template <class T>
void stage_input(const TileGeometry& g, const T* input, Layout layout, std::int64_t first,
                 std::int64_t count, T* staged, T pad = T{}) {
  const std::int64_t H = g.height, W = g.width, C = g.in_channels, Cp = g.in_channels_padded;
  const std::int64_t row_elements = g.staged_in_w * Cp;
  const std::int64_t rows = count * g.staged_in_h;
  const auto zero = [pad](T* p, std::int64_t n) {
    if (n <= 0) return;
    if (pad == T{}) {
      std::memset(static_cast<void*>(p), 0, static_cast<std::size_t>(n) * sizeof(T));
    } else {
      std::fill_n(p, n, pad);
    }
  };
  SFC_OMP(omp for schedule(static))
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t n = first + r / g.staged_in_h;
    const std::int64_t y = r % g.staged_in_h - g.pad_top;
    T* row = staged + r * row_elements;
    if (y < 0 || y >= H) {
      zero(row, row_elements);
      continue;
    }
    // Zero only what the copy below does not write: the left and right
    // borders and, per pixel, the channel tail.
    T* dst = row + g.pad_left * Cp;
    zero(row, g.pad_left * Cp);
    zero(dst + W * Cp, row_elements - (g.pad_left + W) * Cp);
    if (layout == Layout::NHWC) {
      const T* src = input + ((n * H + y) * W) * C;
      for (std::int64_t x = 0; x < W; ++x) {
        std::memcpy(dst + x * Cp, src + x * C, static_cast<std::size_t>(C) * sizeof(T));
        zero(dst + x * Cp + C, Cp - C);
      }
    } else {
      // Row y of every channel plane: a C x W block, transposed into W pixels.
      const T* src = input + (n * C * H + y) * W;
      kernels::transpose(src, H * W, dst, Cp, C, W);
      for (std::int64_t x = 0; x < W; ++x) zero(dst + x * Cp + C, Cp - C);
    }
  }
}

/// The identity conversion of unstage_output.
struct KeepValue {
  template <class T>
  T operator()(T v, std::int64_t /*channel*/) const noexcept {
    return v;
  }
};

/// Crops images [first, first + count) of the staged output into `output`
/// (layout `layout`), each value through convert(value, channel) (e.g. a
/// requantization). Must be called by every thread of a parallel region (or
/// outside one).
template <class T, class Out, class Convert = KeepValue>
void unstage_output(const TileGeometry& g, const T* staged, std::int64_t first, std::int64_t count,
                    Out* output, Layout layout, const Convert& convert = {}) {
  const std::int64_t H = g.out_height, W = g.out_width, C = g.out_channels,
                     Cp = g.out_channels_padded;
  const std::int64_t rows = count * H;
  SFC_OMP(omp for schedule(static))
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t local = r / H;
    const std::int64_t n = first + local;
    const std::int64_t y = r % H;
    const T* src = staged + ((local * g.staged_out_h + y) * g.staged_out_w) * Cp;
    if (layout == Layout::NHWC) {
      Out* dst = output + ((n * H + y) * W) * C;
      for (std::int64_t x = 0; x < W; ++x) {
        if constexpr (std::is_same_v<Convert, KeepValue> && std::is_same_v<T, Out>) {
          std::memcpy(dst + x * C, src + x * Cp, static_cast<std::size_t>(C) * sizeof(T));
        } else {
          for (std::int64_t c = 0; c < C; ++c) dst[x * C + c] = convert(src[x * Cp + c], c);
        }
      }
    } else if constexpr (std::is_same_v<Convert, KeepValue> && std::is_same_v<T, Out>) {
      // W pixels x C channels, transposed into row y of every channel plane.
      kernels::transpose(src, Cp, output + (n * C * H + y) * W, H * W, W, C);
    } else {
      for (std::int64_t c = 0; c < C; ++c) {
        Out* dst = output + ((n * C + c) * H + y) * W;
        for (std::int64_t x = 0; x < W; ++x) dst[x] = convert(src[x * Cp + c], c);
      }
    }
  }
}

/// Whether the output transforms can write straight into `output`: when the
/// staged output would be a copy of it (NHWC, no channel padding, whole
/// tiles, values kept as they are), as with SFC-6(7x7)'s tiles on every
/// ResNet and VGG layer. Saves the staged output's round trip (3.2 MB of
/// float per 8 images at C=128@28).
template <class Staged, class Out, class Convert>
bool writes_output_in_place(const TileGeometry& g, Layout layout) {
  if constexpr (std::is_same_v<Staged, Out> && std::is_same_v<Convert, KeepValue>) {
    return layout == Layout::NHWC && g.out_channels == g.out_channels_padded &&
           g.staged_out_h == g.out_height && g.staged_out_w == g.out_width;
  } else {
    return false;
  }
}

/// The tile loop every tiled operator runs, for any element types. Per image
/// group: stage the input; per block of tiles_per_block tiles: (1) the data
/// transform, one item per (tile, input chunk); (2) the element-wise stage
/// and (3) the output transform, by panels of output channels, in one of two
/// orders:
/// - fused (`fuse`): one item per (tile range, panel) runs gemm(panel, 0, T,
///   first_tile, end_tile) (every slot of that panel for those tiles) and
///   then, while its products are still in cache, the output transform of
///   those tiles for the panel's `chunks_per_panel` output chunks (chunk =
///   panel * chunks_per_panel + v). Items are range-major. With
///   `split_tiles` the block's tiles are split into one range per thread:
///   each thread then reads the transformed data it wrote itself in the
///   data transform (split the same way), not the other threads', but every
///   weight (split_tiles_for says when); otherwise ranges are split only
///   when there are fewer panels than threads.
/// - not fused: one item per (slot q, panel), slot-major, runs gemm(panel, q,
///   q + 1, 0, tiles) (consecutive items share the slot's transformed data);
///   then one item per (tile, output chunk).
/// Then crop the staged output into `output` (or, when
/// writes_output_in_place, write the tiles there in the first place). Each
/// phase is split across `threads` OpenMP threads; items never share
/// outputs, so results do not depend on the thread count. Fusing keeps a
/// block's products in cache when they are too many for it (fuse_panels);
/// with few tiles (a weight-bound layer) they fit anyway, and the slot-major
/// order reads the data once.
///
///   transform(t, chunk, window)  t = tile within the block; window = its
///                                (0, 0) input position in the staged input
///   gemm(panel, q0, q1, t0, t1)  slots [q0, q1) of the panel, tiles [t0, t1)
///                                of this block
///   output(t, chunk, tile)       tile = its (0, 0) output position in the
///                                staged output
///   convert(value, channel)      staged output value -> `output` element
///   pad                          the input value of padding (see stage_input)
template <class In, class Staged, class Out, class Transform, class Gemm, class Output,
          class Convert = KeepValue>
void run_tiled(const TileGeometry& g, int threads, bool fuse, bool split_tiles, const In* input,
               Layout in_layout, Out* output, Layout out_layout, In* staged_in, Staged* staged_out,
               std::int64_t in_chunks, std::int64_t panels, std::int64_t chunks_per_panel,
               Transform&& transform, Gemm&& gemm, Output&& output_transform,
               const Convert& convert = {}, In pad = In{}) {
  const std::int64_t M = g.M, T = g.T;
  const std::int64_t in_row = g.staged_in_w * g.in_channels_padded;
  const std::int64_t out_row = g.staged_out_w * g.out_channels_padded;
  const std::int64_t TB = g.tiles_per_block;
  const auto locate = [&](std::int64_t tile, std::int64_t rows, std::int64_t row_elements,
                          std::int64_t channels) {
    const std::int64_t image = tile / g.tiles_per_image;
    const std::int64_t ty = tile % g.tiles_per_image / g.tiles_w, tx = tile % g.tiles_w;
    return (image * rows + ty * M) * row_elements + tx * M * channels;
  };
  const bool direct = writes_output_in_place<Staged, Out, Convert>(g, out_layout);
  (void)threads;
  SFC_OMP(omp parallel num_threads(threads))
  {
    for (std::int64_t first = 0; first < g.batch; first += g.images_per_group) {
      const std::int64_t images = std::min(g.images_per_group, g.batch - first);
      stage_input(g, input, in_layout, first, images, staged_in, pad);
      Staged* tiles_out = staged_out;
      if constexpr (std::is_same_v<Staged, Out>) {
        if (direct) tiles_out = output + first * g.out_height * g.out_width * g.out_channels;
      }
      const std::int64_t tiles = images * g.tiles_per_image;
      for (std::int64_t t0 = 0; t0 < tiles; t0 += TB) {
        const std::int64_t tb = std::min(TB, tiles - t0);
        SFC_OMP(omp for schedule(static))
        for (std::int64_t item = 0; item < tb * in_chunks; ++item) {
          const std::int64_t t = item / in_chunks, c = item % in_chunks;
          transform(t, c, staged_in + locate(t0 + t, g.staged_in_h, in_row, g.in_channels_padded));
        }
        const auto output_tiles = [&](std::int64_t t, std::int64_t c) {
          output_transform(
              t, c, tiles_out + locate(t0 + t, g.staged_out_h, out_row, g.out_channels_padded));
        };
        if (fuse) {
          // Tile ranges per thread, or all tiles per item when the panels
          // alone give every thread work and splitting the tiles would
          // make every thread stream every weight.
          const std::int64_t splits =
              split_tiles
                  ? std::min<std::int64_t>(tb, threads)
                  : std::min(tb, std::max<std::int64_t>(1, (threads + panels - 1) / panels));
          SFC_OMP(omp for schedule(static))
          for (std::int64_t item = 0; item < panels * splits; ++item) {
            const std::int64_t s = item / panels, p = item % panels;
            const std::int64_t begin = s * tb / splits, end = (s + 1) * tb / splits;
            gemm(p, std::int64_t{0}, T, begin, end);
            for (std::int64_t t = begin; t < end; ++t)
              for (std::int64_t v = 0; v < chunks_per_panel; ++v)
                output_tiles(t, p * chunks_per_panel + v);
          }
        } else {
          SFC_OMP(omp for schedule(static))
          for (std::int64_t item = 0; item < T * panels; ++item) {
            const std::int64_t q = item / panels, p = item % panels;
            gemm(p, q, q + 1, std::int64_t{0}, tb);
          }
          const std::int64_t out_chunks = panels * chunks_per_panel;
          SFC_OMP(omp for schedule(static))
          for (std::int64_t item = 0; item < tb * out_chunks; ++item)
            output_tiles(item / out_chunks, item % out_chunks);
        }
      }
      if (!direct) unstage_output(g, staged_out, first, images, output, out_layout, convert);
    }
  }
}

/// Whether run_tiled should split a block's tiles between the threads
/// (rather than its panels): when the transformed weights, which every
/// thread then reads whole (`weight_bytes` each, T x Cin x Cout of them), are
/// small. Measured on a 2-core VM whose cores at times share no cache
/// (quantized SFC-6(7x7) NHWC batch 8 C=128@28, 2 threads: 1.12 ms split by
/// panels, 0.78 split by tiles, 1.00 on 1 thread; same when they share
/// one), while splitting the 17 MB of int16 weights of exact C=256@14 by
/// tiles cost 10% when they share one.
inline bool split_tiles_for(const TileGeometry& g, std::int64_t weight_bytes) {
  constexpr std::int64_t kSharedWeightBytes = std::int64_t{4} << 20;
  return g.T * g.in_channels_padded * g.out_channels_padded * weight_bytes <= kSharedWeightBytes;
}

/// Position of the product of tile t (within its block), slot q and output
/// channel o in a block's products, laid out as run_tiled's gemm writes
/// them and its output transform reads them: by panel of `panel_width`
/// output channels, then [tile][slot][panel_width].
inline std::int64_t product_offset(const TileGeometry& g, std::int64_t panel_width, std::int64_t t,
                                   std::int64_t q, std::int64_t o) {
  return ((o / panel_width * g.tiles_per_block + t) * g.T + q) * panel_width + o % panel_width;
}

/// Position of the weight panel (slot q, panel p) among a layer's T x
/// `panels` packed weight panels, in the order run_tiled reads them:
/// panel-major when it fuses, slot-major when not.
inline std::int64_t weight_panel_index(const TileGeometry& g, bool fused, std::int64_t panels,
                                       std::int64_t q, std::int64_t p) {
  return fused ? p * g.T + q : q * panels + p;
}

/// Whether run_tiled should fuse: when a block's products
/// (`product_bytes` each, T per tile and output channel) exceed
/// `cache_bytes`, what a core's cache keeps between the two stages. The
/// default, 1 MiB, is the int8 operators' (measured on an earlier machine: fusing made
/// SFC-6(7x7) fp32 batch 8 C=256@14 14% faster, batch 1 C=256@14, 540 KB of
/// products, 15% slower); the fp32 operator passes its own (conv2d.hpp).
inline bool fuse_panels(const TileGeometry& g, std::int64_t product_bytes,
                        std::int64_t cache_bytes = std::int64_t{1} << 20) {
  return g.tiles_per_block * g.T * g.out_channels_padded * product_bytes > cache_bytes;
}

}  // namespace sfc::detail
