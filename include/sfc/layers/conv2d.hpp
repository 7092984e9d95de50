#pragma once
/// \file
/// `sfc::Conv2d<T, Algorithm, Target>`: a 2D convolution operator (stride 1,
/// dilation 1, zero padding) that runs a fast algorithm tile by tile.
///
/// Plan, then run:
///
///     sfc::Conv2d<float, sfc::SFC<6, 7, 3>> conv(shape, weights_oihw, bias,
///                                                {.input_layout = sfc::Layout::NHWC});
///     conv.run(input, output);                    // any number of times
///
/// - Construction validates everything it is given (the shape, the kernel
///   size against the algorithm, weight and bias buffers, finite weights) and
///   transforms and packs the weights once. It throws sfc::Error with a
///   message naming the problem.
/// - `run` validates its buffers, then computes. It is const and keeps no
///   state: several threads may call `run` on the same operator at once.
///   Scratch memory is a per-thread buffer kept between calls (grown when a
///   call needs more), or passed in by the caller (`run(input, output,
///   workspace)`, at least `workspace_size()` floats).
/// - Threads: OpenMP inside each call (see sfc/core/parallel.hpp);
///   `RunOptions::threads` caps them. Results are identical for every
///   thread count.
///
/// `Algorithm` is a 1D algorithm type (`SFC<N,M,R>`, `Winograd<M,R>`: its
/// preferred 2D form is used, symbolic for SFC, nested for Winograd) or a 2D
/// form (`SFC<6,7,3>::nested_2d`). `Target` is a SIMD target from
/// sfc/kernels/simd.hpp (default: the widest the build enables).
///
/// Weights (ConvOptions::weight_path): transformed once at plan time into
/// T x Cin x Cout values, the usual fast-convolution GEMM; or, for layers
/// with few tiles whose transformed weights would not fit a cache (batch 1
/// at 14x14 or 7x7 with 256 or more channels), kept as R x R taps and
/// combined into each slot's weight inside the element-wise kernel
/// (kernels/gemm_taps.hpp), which reads T / R^2 times fewer bytes.
///
/// Numerical behaviour (fp32): the weights are transformed in double and
/// rounded once (or, on the fly, summed in float from the taps); data
/// transforms, products and the output transform run in float with fused
/// multiply-adds where the target has them. Errors stay close to direct
/// fp32 convolution for SFC (its data and weight transforms are ternary);
/// Winograd's fractional transforms amplify rounding errors
/// (tests/test_conv2d.cpp states the bounds). A NaN or infinity in the input
/// makes the outputs of every tile whose window contains it NaN (direct
/// convolution confines it to the R x R neighbourhood). Range: weights whose
/// transform could overflow float (a slot's sum of |coefficient| x |tap|
/// above FLT_MAX) are refused at plan time; inputs within FLT_MAX / data_growth (the
/// algorithm's constexpr gain, bounds.hpp) are transformed without
/// overflow, and larger finite inputs can overflow in the data transform
/// (infinite or NaN outputs) where direct convolution might not.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>

#include "sfc/core/aligned_buffer.hpp"
#include "sfc/core/buffers.hpp"
#include "sfc/core/checked.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/core/parallel.hpp"
#include "sfc/kernels/gemm_f32.hpp"
#include "sfc/kernels/gemm_taps.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/tile_transform.hpp"
#include "sfc/layers/tiling.hpp"
#include "sfc/transforms/bounds.hpp"

namespace sfc {

/// Where the element-wise stage takes its weights from (see
/// sfc/layers/conv2d.hpp): the fp32 and the exact int8 operators offer both
/// (the exact one on the fly only where its products are int32, one channel
/// group: sfc/layers/conv2d_int8.hpp); the quantized operator quantizes its
/// transformed weights at plan time and rejects `on_the_fly`.
enum class WeightPath {
  automatic,    ///< on_the_fly when detail::weights_on_the_fly_pays says so
  transformed,  ///< T x Cin x Cout weights transformed once, at plan time
  on_the_fly,   ///< R x R taps, each slot's weight formed in the kernel
};

/// Construction-time options of a convolution operator.
struct ConvOptions {
  Layout input_layout = Layout::NCHW;
  Layout output_layout = Layout::NCHW;
  bool relu = false;  ///< fused max(0, .) after the bias
  WeightPath weight_path = WeightPath::automatic;
};

/// A 2D form type (has a plan and products), as opposed to a 1D algorithm.
template <class A>
concept Algorithm2DForm = requires {
  typename A::algorithm;
  A::pairs;
  A::products;
  A::T;
};

namespace detail {

/// Whether WeightPath::automatic forms the weights on the fly, for a layer
/// of geometry g whose slots take `adds_per_slot` additions on average to
/// form from the taps (kernels::TileMaps::slot_taps), on a target of `lanes`
/// output channels per vector. Only where the T x Cin x Cout transformed
/// weights (`weight_bytes` each) exceed 16 MiB (more than a core's share of a large L3: they would
/// stream from memory on every call) and a block has at most kernels::kTapsRows tiles. Then, per
/// input channel and output vector, the transformed weights cost ~5 T cycles of memory traffic with
/// 16 lanes (T vectors of 64 bytes at ~12.5 bytes per cycle; half with 8 lanes) and the on-the-fly
/// kernel ~0.5-0.65 (tiles + formations * adds_per_slot) T cycles of
/// arithmetic whatever the width (formations: kernels::taps_formations, 1
/// for 1 or 4 tiles): it pays while that sum stays below ~lanes / 2
/// (measured on Zen 5, bench/RESULTS.md; AVX-512: SFC-6(7x7) at 1, 2 and 4
/// tiles, 2.7 additions per slot, 1.5-4.7x faster; SFC-6(6x6) at 4 tiles,
/// 3.6, 1.7x; SFC-4 at 4 tiles, 3.3, 1.4x; Winograd F(4x4) at 4 tiles, 4.4
/// (some of them multiplications by fractions), 1.1x slower; SFC-6(7x7) at
/// 8 tiles, the same. AVX2 kernels: SFC-6(7x7) at 1 tile 1.9x faster, at 4
/// tiles 1.7x slower). The exact int8 operator's int16 kernel does the same
/// work per channel pair that the fp32 one does per channel, against int16
/// weight vectors of the same bytes: the same rule holds with its int32
/// lanes.
inline bool weights_on_the_fly_pays(const TileGeometry& g, double adds_per_slot, int lanes,
                                    double weight_bytes) {
  constexpr double kCachedWeightBytes = 16.0 * (1 << 20);
  const double max_work = lanes / 2.0;
  const double formations = static_cast<double>(kernels::taps_formations(g.tiles_per_block));
  return g.tiles_per_block <= kernels::kTapsRows &&
         static_cast<double>(g.tiles_per_block) + formations * adds_per_slot <= max_work &&
         weight_bytes * g.T * static_cast<double>(g.in_channels) *
                 static_cast<double>(g.out_channels) >
             kCachedWeightBytes;
}

/// Throws unless every field of `options` holds one of its enumerators (a
/// value cast from an out-of-range integer does not).
inline void check_options(const char* who, const ConvOptions& options) {
  check_layout(who, "input_layout", options.input_layout);
  check_layout(who, "output_layout", options.output_layout);
  const WeightPath path = options.weight_path;
  if (path != WeightPath::automatic && path != WeightPath::transformed &&
      path != WeightPath::on_the_fly) {
    throw Error(std::string(who) + ": weight_path is not a WeightPath (value " +
                std::to_string(static_cast<int>(path)) + ")");
  }
}

/// The quantized operator transforms its weights at plan time only.
inline void check_weights_transformed(const char* who, const ConvOptions& options) {
  if (options.weight_path == WeightPath::on_the_fly) {
    throw Error(std::string(who) +
                ": weight_path = on_the_fly is offered by the fp32 and exact int8 operators only "
                "(the quantized operator quantizes its transformed weights at plan time)");
  }
}

template <class A>
struct as_2d {
  using type = preferred_2d_t<A>;
};
template <Algorithm2DForm A>
struct as_2d<A> {
  using type = A;
};
}  // namespace detail

/// The 2D form an operator runs for `Algorithm`.
template <class Algorithm>
using algorithm_2d_t = typename detail::as_2d<Algorithm>::type;

/// Primary template; specialised per element type (float here).
template <class T, class Algorithm, class Target = simd::Native>
class Conv2d;

/// fp32 fast convolution.
template <class Algorithm, class Target>
class Conv2d<float, Algorithm, Target> {
 public:
  using algorithm_2d = algorithm_2d_t<Algorithm>;
  using target = Target;
  static constexpr int M = algorithm_2d::M;
  static constexpr int R = algorithm_2d::R;
  static constexpr int T = algorithm_2d::T;

  /// Plans the convolution: validates `shape` (kernel must be R x R),
  /// `weights` (OIHW, at least shape.weight_elements(), finite) and `bias`
  /// (empty or out_channels values), then transforms and packs the weights.
  Conv2d(const Conv2dShape& shape, std::span<const float> weights, std::span<const float> bias = {},
         ConvOptions options = {})
      : shape_(shape), options_(options) {
    throw_if_error(shape.validate(), kWho);
    detail::check_kernel(kWho, shape, R);
    detail::check_options(kWho, options);
    if (shape.in_channels > kMaxChannels || shape.out_channels > kMaxChannels) {
      throw Error(std::string(kWho) + ": channel counts above " + std::to_string(kMaxChannels) +
                  " are not supported (got in_channels = " + std::to_string(shape.in_channels) +
                  ", out_channels = " + std::to_string(shape.out_channels) + ")");
    }
    detail::check_buffer(kWho, "weight", weights, shape.weight_elements());
    detail::check_bias(kWho, shape, bias);
    const std::span<const float> filters =
        weights.first(static_cast<std::size_t>(shape.weight_elements()));
    detail::check_finite(kWho, "weight", filters);
    detail::check_finite(kWho, "bias", bias);
    check_weight_range(filters);
    geometry_ =
        detail::make_tile_geometry(kWho, shape, M, R, T,
                                   detail::BlockingPolicy{.in_lanes = kLanes,
                                                          .out_multiple = kPanel,
                                                          .gemm_rows = Target::gemm_rows,
                                                          .input_bytes = sizeof(float),
                                                          .product_bytes = sizeof(float),
                                                          .cached_block_bytes = kCachedBlockBytes,
                                                          .weight_bytes = sizeof(float)});
    on_the_fly_ =
        options.weight_path == WeightPath::on_the_fly ||
        (options.weight_path == WeightPath::automatic &&
         detail::weights_on_the_fly_pays(geometry_, kernels::taps_adds_per_slot<algorithm_2d>,
                                         kLanes, sizeof(float)));
    // On the fly, one item runs every slot of a panel (the fused order).
    fuse_ = on_the_fly_ || detail::fuse_panels(geometry_, sizeof(float), kFuseBytes);
    if (on_the_fly_) {
      pack_taps(weights);
    } else {
      pack_weights(weights);
    }
    bias_ = AlignedBuffer<float>(static_cast<std::size_t>(geometry_.out_channels_padded));
    for (std::size_t o = 0; o < bias.size(); ++o) bias_.data()[o] = bias[o];
  }

  const Conv2dShape& shape() const noexcept { return shape_; }
  const ConvOptions& options() const noexcept { return options_; }
  /// Whether the weights are formed on the fly (see WeightPath).
  bool weights_on_the_fly() const noexcept { return on_the_fly_; }

  /// Floats of scratch memory one `run` call needs (independent of threads).
  std::size_t workspace_size() const {
    const std::int64_t total = add_or_throw(
        add_or_throw(geometry_.staged_input_elements(), geometry_.staged_output_elements()),
        add_or_throw(geometry_.transformed_input_elements(), geometry_.products_elements()));
    return static_cast<std::size_t>(total) + kAlignSlack;
  }

  /// out = conv(in): `input` holds shape().input_elements() floats in the
  /// input layout, `output` receives shape().output_elements() floats in the
  /// output layout. Uses a scratch buffer of the calling thread, kept between
  /// calls (see detail::thread_scratch).
  void run(std::span<const float> input, std::span<float> output, RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    auto* workspace = reinterpret_cast<float*>(detail::thread_scratch(workspace_size() * sizeof(float)));
    compute(input.data(), output.data(), workspace, run_options);
  }

  /// As above with caller-provided scratch of at least workspace_size()
  /// floats (it must not overlap the input or output). Concurrent calls need
  /// separate workspaces.
  void run(std::span<const float> input, std::span<float> output, std::span<float> workspace,
           RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    detail::check_workspace(kWho, shape_, workspace, static_cast<std::int64_t>(workspace_size()),
                            input.data(), output.data());
    compute(input.data(), output.data(), workspace.data(), run_options);
  }

 private:
  static constexpr const char* kWho = "sfc::Conv2d";
  static constexpr int kLanes = Target::f32_lanes;
  static constexpr int kPanel = kernels::panel_width<Target>;
  static constexpr std::size_t kAlignSlack = AlignedBuffer<float>::alignment / sizeof(float);
  static constexpr std::int64_t kMaxChannels = std::int64_t{1} << 24;
  // Blocking of the fp32 operator (detail::BlockingPolicy::cached_block_bytes,
  // detail::fuse_panels), measured on the Intel Xeon of bench/RESULTS.md
  // ("Blocks sized by bytes"), 1 thread, against the int8 operators' 32 MiB
  // and 1 MiB: SFC-6(7x7) NHWC batch 8 C=256@14 7.1-7.9 -> 6.1-6.5 ms with
  // the block budget (24 tiles per block instead of 32); fusing only above
  // 4 MiB of products, batch 8 C=128@28 6.9 -> 6.2 ms, VGG C=128@112 14.7 ->
  // 12.9 ms; old/new over 62 fp32 entries, one 8% slower (NCHW VGG
  // C=256@56, its NHWC twin 7% faster), the others within 5% or faster.
  static constexpr std::int64_t kCachedBlockBytes = std::int64_t{7} << 20;
  static constexpr std::int64_t kFuseBytes = std::int64_t{4} << 20;
  using V = typename Target::f32;
  using Ops = kernels::F32Ops<Target>;
  using Input = kernels::InputTransform<algorithm_2d, Ops>;
  using Output = kernels::OutputTransform<algorithm_2d, Ops>;

  /// Position of the weight panel (slot q, panel p) in packed_ (see
  /// detail::weight_panel_index).
  std::int64_t panel_index(std::int64_t q, std::int64_t p) const {
    return detail::weight_panel_index(geometry_, fuse_, geometry_.out_channels_padded / kPanel, q,
                                      p);
  }

  /// Throws if a transformed weight could leave float range: slot q of
  /// filter (o, i), and on the fly every partial sum forming it, is at most
  /// sum_k |slot_taps(q, k)| |w_k| in magnitude. That bound is taken only
  /// where the quick one, max |w| x weight_growth, exceeds FLT_MAX.
  void check_weight_range(std::span<const float> w) const {
    constexpr double kMax = std::numeric_limits<float>::max();
    double max_abs = 0;
    for (const float v : w) max_abs = std::max(max_abs, static_cast<double>(std::abs(v)));
    if (max_abs * algorithm_2d::weight_growth.to_double() <= kMax) return;
    constexpr const auto& taps = kernels::TileMaps<algorithm_2d>::slot_taps;
    const std::int64_t filters = shape_.out_channels * shape_.in_channels;
    for (std::int64_t f = 0; f < filters; ++f) {
      const float* tap = w.data() + f * R * R;
      for (int q = 0; q < T; ++q) {
        double bound = 0;
        for (int k = taps.begin[static_cast<std::size_t>(q)];
             k < taps.begin[static_cast<std::size_t>(q) + 1]; ++k) {
          bound += std::abs(taps.value[static_cast<std::size_t>(k)]) *
                   std::abs(static_cast<double>(tap[taps.col[static_cast<std::size_t>(k)]]));
        }
        if (bound > kMax) {
          throw Error(std::string(kWho) + ": the transformed weight of slot " + std::to_string(q) +
                      " of output channel " + std::to_string(f / shape_.in_channels) +
                      ", input channel " + std::to_string(f % shape_.in_channels) +
                      " could overflow float (its taps' weighted sum reaches " +
                      detail::format_g(bound) + "); scale the weights down");
        }
      }
    }
  }

  /// U[panel_index(q, panel)][cin][j] = (G w[panel * kPanel + j][cin])_q,
  /// zero-padded.
  void pack_weights(std::span<const float> w) {
    const std::int64_t Cin = shape_.in_channels, Cout = shape_.out_channels;
    const std::int64_t panels = geometry_.out_channels_padded / kPanel;
    packed_ = AlignedBuffer<float>(
        static_cast<std::size_t>(product_or_throw({T, panels, Cin, kPanel})));
    for (std::int64_t o = 0; o < Cout; ++o)
      for (std::int64_t i = 0; i < Cin; ++i) {
        const float* tap = w.data() + (o * Cin + i) * R * R;
        float* base = packed_.data() + i * kPanel + o % kPanel;
        kernels::transform_weights<algorithm_2d>(
            [&](int a, int b) { return static_cast<double>(tap[a * R + b]); },
            [&](int q, double u) {
              base[panel_index(q, o / kPanel) * Cin * kPanel] = static_cast<float>(u);
            });
      }
  }

  /// taps[((o / kLanes * Cin + i) * R * R + e) * kLanes + o % kLanes] =
  /// w[o][i] at tap e, zero beyond Cout (kernels/gemm_taps.hpp).
  void pack_taps(std::span<const float> w) {
    const std::int64_t Cin = shape_.in_channels, Cout = shape_.out_channels;
    const std::int64_t vectors = geometry_.out_channels_padded / kLanes;
    packed_ = AlignedBuffer<float>(
        static_cast<std::size_t>(product_or_throw({vectors, Cin, R * R, kLanes})));
    for (std::int64_t o = 0; o < Cout; ++o)
      for (std::int64_t i = 0; i < Cin; ++i)
        for (std::int64_t e = 0; e < R * R; ++e)
          packed_.data()[((o / kLanes * Cin + i) * R * R + e) * kLanes + o % kLanes] =
              w[static_cast<std::size_t>((o * Cin + i) * R * R + e)];
  }

  void compute(const float* input, float* output, float* workspace, RunOptions run_options) const {
    detail::check_planned(kWho, packed_.data());
    const int threads = detail::useful_threads(
        detail::resolve_threads(run_options.threads, kWho), shape_.direct_macs());
    const detail::TileGeometry& g = geometry_;
    float* ws = detail::align_up(workspace);
    float* staged_in = ws;
    float* staged_out = staged_in + g.staged_input_elements();
    float* transformed = staged_out + g.staged_output_elements();
    float* products = transformed + g.transformed_input_elements();

    const std::int64_t Cin = g.in_channels, Cp = g.in_channels_padded, Op = g.out_channels_padded;
    const std::int64_t in_chunks = Cp / kLanes, panels = Op / kPanel;
    const std::int64_t in_row = g.staged_in_w * Cp, out_row = g.staged_out_w * Op;
    const bool relu = options_.relu;
    const float* bias = bias_.data();
    const float* packed = packed_.data();

    const bool on_the_fly = on_the_fly_;
    // On the fly, the data in the kernel's layout, grouped as for a whole
    // block (a layer's last block may have fewer tiles: a group of
    // kTapsRows it ends inside then computes with an earlier, full block's
    // data for the missing tiles and stores only its own).
    const kernels::TapsData<Target> taps_data{g.tiles_per_block, T, Cp};
    // On the fly, threads split the panels, and the tiles only where there
    // are fewer panels than threads: each thread forms every weight again
    // for its share of the tiles.
    detail::run_tiled(
        g, threads, fuse_, !on_the_fly && detail::split_tiles_for(g, sizeof(float)), input,
        options_.input_layout, output, options_.output_layout, staged_in, staged_out, in_chunks,
        panels, kPanel / kLanes,
        [&](std::int64_t t, std::int64_t c, const float* window) {
          const float* src = window + c * kLanes;
          // Slot q of tile t, channel chunk c: at dst + q * q_stride.
          float* dst = on_the_fly ? transformed + taps_data.offset(t, c)
                                  : transformed + t * T * Cp + c * kLanes;
          const std::int64_t q_stride = on_the_fly ? taps_data.group_size(t) * kLanes : Cp;
          Input::apply([&](int a, int b) { return Target::load(src + a * in_row + b * Cp); },
                       [&](int q, V v) { Target::store(dst + q * q_stride, v); });
        },
        [&](std::int64_t p, std::int64_t q0, std::int64_t q1, std::int64_t begin,
            std::int64_t end) {
          if (on_the_fly) {  // fused: q0 = 0, q1 = T
            for (std::int64_t v = p * (kPanel / kLanes); v < (p + 1) * (kPanel / kLanes); ++v) {
              kernels::taps_gemm<Target, algorithm_2d>(
                  static_cast<int>(begin), static_cast<int>(end), static_cast<int>(Cin), taps_data,
                  packed + v * Cin * R * R * kLanes, transformed,
                  products + detail::product_offset(g, kPanel, begin, 0, v * kLanes), T * kPanel,
                  kPanel);
            }
            return;
          }
          for (std::int64_t q = q0; q < q1; ++q) {
            kernels::f32_gemm<Target>(
                static_cast<int>(end - begin), static_cast<int>(Cin), 1,
                transformed + begin * T * Cp + q * Cp, T * Cp,
                packed + panel_index(q, p) * Cin * kPanel,
                products + detail::product_offset(g, kPanel, begin, q, p * kPanel), T * kPanel);
          }
        },
        [&](std::int64_t t, std::int64_t c, float* tile) {
          const float* src = products + detail::product_offset(g, kPanel, t, 0, c * kLanes);
          float* dst = tile + c * kLanes;
          const V b = Target::load(bias + c * kLanes);
          Output::apply([&](int q) { return Target::load(src + q * kPanel); },
                        [&](int i, int j, V v) {
                          v = Target::add(v, b);
                          if (relu) v = Target::max(v, Target::zero());
                          Target::store(dst + i * out_row + j * Op, v);
                        });
        });
  }

  Conv2dShape shape_;
  ConvOptions options_;
  detail::TileGeometry geometry_;
  bool fuse_ = false;  ///< run_tiled fuses (fixed at plan time: the weight order depends on it)
  bool on_the_fly_ = false;      ///< weights formed from the taps in the kernel
  AlignedBuffer<float> packed_;  ///< transformed weights, or the taps (pack_taps)
  AlignedBuffer<float> bias_;
};

}  // namespace sfc
