#pragma once
/// \file
/// `sfc::Conv2d<std::int8_t, Algorithm, Target>` and
/// `sfc::Conv2d<std::uint8_t, Algorithm, Target>`: exact 8-bit convolution
/// through an SFC algorithm. int8 input, or uint8 input with a zero point
/// (NCHW or NHWC), int8 OIHW weights, optional int32 bias, int32 output
/// **bit-identical to direct convolution** (`sfc::reference::conv2d_direct`:
/// sum of w * (x - zero_point), zero padding meaning real zero), for every
/// input. Optionally requantized to int8 or uint8 output with
/// per-output-channel scales and exact rounding (sfc/layers/requantize.hpp).
///
/// uint8 input: the padded image holds the zero point at the borders (real
/// zero), the kernels transform the uint8 values as they are (magnitudes up
/// to 255, so the int32 chunks are about half as long), and the output stage
/// subtracts zero_point * (sum of the channel's weights) exactly.
///
/// Why it is exact, stage by stage (bounds from sfc/transforms/bounds.hpp,
/// checked by static_assert):
/// - data transform in int16: SFC's data transform is integer (ternary), and
///   its largest output, data_growth * 128 (4608 for SFC-6 3x3), fits int16;
///   int16 arithmetic wraps, so partial sums may wrap and the result is still
///   exact;
/// - weights transformed once, exactly, into int16 (weight_growth * 128 fits);
/// - products summed in int32 over chunks of at most int32_channel_limit
///   input channels (404 for SFC-6 3x3), where no sum can overflow whatever
///   the input, then widened to int64;
/// - output transform in int64 with the stage matrices scaled to integers,
///   then one exact division by the known scale (a multiple of N^2);
/// - where a layer allows it, products and output transform run in int32
///   instead, all arithmetic modulo 2^32 (sums may wrap), over groups of at
///   most `int32_product_channels` input channels (3640 for SFC-6 3x3 with
///   int8 input, 1827 with uint8). The output transform then holds
///   scale * (group output) modulo 2^32; with scale = 2^s * odd,
///   multiplying by the inverse of the odd part modulo 2^32 leaves
///   2^s * (group output) modulo 2^32, which is the true value, and shifting
///   out 2^s gives the group's share of the output exactly, as long as
///   2^s * |group output| < 2^31 for every input: that bound sets the group
///   size (s = 2 for SFC-6). The shares add up, modulo 2^32 again, to the
///   int32 output. Each group costs one output transform; up to
///   `max_int32_groups` groups this beats int64 products (half the bytes,
///   twice the lanes; on AVX2 native int32 lanes instead of emulated int64
///   ones), beyond it int64 is used.
/// The construction rejects shapes whose int32 output could overflow
/// (in_channels * R * R * 128 * 128 + |bias| > 2^31 - 1; 255 * 128 for
/// uint8).
///
/// Weights (ConvOptions::weight_path): transformed once at plan time into
/// T x Cin x Cout int16 values; or, on the int32 product path with one
/// channel group, kept as int8 taps widened to int16 and combined into each
/// slot's weight inside the element-wise kernel (kernels/gemm_taps.hpp),
/// exactly the same values (SFC's weight transform is ternary): for layers
/// with few tiles whose transformed weights would stream from memory
/// (batch 1 at 14x14 or 7x7 with 256 or more channels).
///
/// Winograd's transforms are fractional: exact int8 Winograd is not offered
/// here (the type fails to compile with a message).
///
/// Same plan-then-run contract as the fp32 operator (sfc/layers/conv2d.hpp);
/// the workspace is counted in bytes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "sfc/core/aligned_buffer.hpp"
#include "sfc/core/buffers.hpp"
#include "sfc/core/checked.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/core/parallel.hpp"
#include "sfc/kernels/exact_divisor.hpp"
#include "sfc/kernels/gemm_s16.hpp"
#include "sfc/kernels/gemm_taps.hpp"
#include "sfc/kernels/int_ops.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/tile_transform.hpp"
#include "sfc/layers/conv2d.hpp"
#include "sfc/layers/requantize.hpp"
#include "sfc/layers/tiling.hpp"
#include "sfc/transforms/bounds.hpp"

namespace sfc {

namespace detail {

/// The exact operator for 8-bit input type In (int8_t or uint8_t).
template <class In, class Algorithm, class Target>
class ExactConv2d {
 public:
  using algorithm_2d = algorithm_2d_t<Algorithm>;
  using target = Target;
  static constexpr int M = algorithm_2d::M;
  static constexpr int R = algorithm_2d::R;
  static constexpr int T = algorithm_2d::T;

 private:
  using Maps = kernels::TileMaps<algorithm_2d>;
  using Output = kernels::OutputTransform<algorithm_2d, kernels::I64Ops<Target>, true>;

 public:
  static_assert(kernels::detail::denominator_of(Maps::dx) == 1 &&
                    kernels::detail::denominator_of(Maps::dw) == 1 &&
                    kernels::detail::denominator_of(Maps::forms) == 1,
                "exact int8 convolution needs integer data and weight transforms (SFC); "
                "Winograd's are fractional");
  static_assert(std::is_same_v<In, std::int8_t> || std::is_same_v<In, std::uint8_t>);
  /// Largest |x - zero_point|.
  static constexpr std::int64_t kDataMagnitude = std::is_same_v<In, std::int8_t> ? kInt8MaxMagnitude : 255;
  static_assert(data_fits_int16<algorithm_2d>(kDataMagnitude), "transformed data must fit int16");
  static_assert(int8_weight_fits_int16<algorithm_2d>(), "transformed int8 weights must fit int16");
  static_assert(Target::has_int8_kernels, "this SIMD target has no int8 kernels");
  /// Input channels whose products are summed in int32 before widening.
  static constexpr std::int64_t channels_per_int32_sum =
      int32_channel_limit<algorithm_2d>(kDataMagnitude, kInt8MaxMagnitude);
  static_assert(channels_per_int32_sum >= 2, "an int32 sum must hold at least one channel pair");
  /// Input channels of one int32 group (see the file comment).
  static constexpr std::int64_t int32_product_channels =
      (kInt32Max >> kernels::exact_divisor<std::uint32_t>(Output::scale).shift) /
      (R * R * kDataMagnitude * kInt8MaxMagnitude);
  static_assert(int32_product_channels >= 2, "an int32 group must hold at least one channel pair");

  /// Plans the convolution: validates `shape` (kernel R x R; the int32
  /// output cannot overflow), `weights` (OIHW), `bias` (empty or
  /// out_channels values) and the zero point (uint8 range), then
  /// transforms and packs the weights exactly.
  ExactConv2d(const Conv2dShape& shape, std::span<const std::int8_t> weights,
              std::span<const std::int32_t> bias, std::int32_t zero_point, ConvOptions options)
      : shape_(shape), options_(options), zero_point_(zero_point) {
    throw_if_error(shape.validate(), kWho);
    detail::check_kernel(kWho, shape, R);
    detail::check_options(kWho, options);
    if (zero_point < 0 || zero_point > 255 || (std::is_same_v<In, std::int8_t> && zero_point != 0)) {
      throw Error(std::string(kWho) + ": zero point " + std::to_string(zero_point) +
                  " is outside the input type's range");
    }
    detail::check_bias(kWho, shape, bias);
    std::int64_t max_bias = 0;
    for (const std::int32_t b : bias) max_bias = std::max<std::int64_t>(max_bias, b < 0 ? -std::int64_t{b} : b);
    // |output| <= Cin * R * R * |x - zero_point| * 128 + |bias| must fit int32.
    const std::int64_t per_channel = std::int64_t{R} * R * kDataMagnitude * kInt8MaxMagnitude;
    if (shape.in_channels > (kInt32Max - max_bias) / per_channel) {
      throw Error(std::string(kWho) + ": in_channels = " + std::to_string(shape.in_channels) +
                  " can overflow the int32 output (at most " +
                  std::to_string((kInt32Max - max_bias) / per_channel) + " input channels for a " +
                  std::to_string(R) + "x" + std::to_string(R) + " kernel with this bias)");
    }
    detail::check_buffer(kWho, "weight", weights, shape.weight_elements());
    geometry_ =
        detail::make_tile_geometry(kWho, shape, M, R, T,
                                   detail::BlockingPolicy{.in_lanes = Target::i16_lanes,
                                                          .out_multiple = kPanel,
                                                          .gemm_rows = Target::s16_gemm_rows,
                                                          .input_bytes = sizeof(std::int16_t),
                                                          .product_bytes = product_bytes()});
    // On the fly: int32 products of one channel group (the kernel sums every
    // input channel into one int32 accumulator).
    const bool can_form = product_bits() == 32 && int32_groups() == 1;
    if (options.weight_path == WeightPath::on_the_fly && !can_form) {
      throw Error(std::string(kWho) +
                  ": weight_path = on_the_fly needs the int32 product path of one channel group "
                  "(at most " +
                  std::to_string(int32_group_channels) +
                  " input channels for this algorithm and input type), got in_channels = " +
                  std::to_string(shape.in_channels));
    }
    on_the_fly_ =
        options.weight_path == WeightPath::on_the_fly ||
        (options.weight_path == WeightPath::automatic && can_form &&
         detail::weights_on_the_fly_pays(geometry_, kernels::taps_adds_per_slot<algorithm_2d>,
                                         Target::i32_lanes, sizeof(std::int16_t)));
    // On the fly, one item runs every slot of a panel (the fused order).
    fuse_ = on_the_fly_ || detail::fuse_panels(geometry_, product_bytes());
    if (on_the_fly_) {
      pack_taps(weights);
    } else {
      pack_weights(weights);
    }
    // The output stage adds bias - zero_point * (sum of the channel's weights).
    bias_ = AlignedBuffer<std::int64_t>(static_cast<std::size_t>(geometry_.out_channels_padded));
    for (std::int64_t o = 0; o < shape.out_channels; ++o) {
      std::int64_t sum = 0;
      for (std::int64_t i = 0; i < shape.in_channels * R * R; ++i) sum += weights[static_cast<std::size_t>(o * shape.in_channels * R * R + i)];
      bias_.data()[o] = (bias.empty() ? 0 : bias[static_cast<std::size_t>(o)]) - zero_point * sum;
    }
    if (product_bits() == 32) {
      // |bias - zero_point * sum| <= |bias| + Cin * R^2 * 255 * 128 fits int32
      // (the output range check above).
      bias32_ = AlignedBuffer<std::int32_t>(bias_.size());
      for (std::size_t o = 0; o < bias_.size(); ++o) bias32_.data()[o] = static_cast<std::int32_t>(bias_.data()[o]);
    }
  }

  /// Input channels of a full int32 group: int32_product_channels in whole
  /// pairs (the kernels take channels in pairs).
  static constexpr std::int64_t int32_group_channels = int32_product_channels / 2 * 2;

  /// Most int32 groups a layer is split into; wider layers use int64. Each
  /// group costs an output transform and a pass over its products, so the
  /// target says where int64 starts to win (Target::i32_max_groups: 2 on
  /// AVX2, whose int64 lanes are emulated, 1 on AVX-512; bench/RESULTS.md).
  static constexpr std::int64_t max_int32_groups = Target::i32_max_groups;

  /// Input channel groups of the int32 path: ceil(in_channels /
  /// int32_group_channels).
  std::int64_t int32_groups() const noexcept {
    return (shape_.in_channels + int32_group_channels - 1) / int32_group_channels;
  }

  /// Width of the products and the output transform for this shape: 32
  /// (1 to max_int32_groups int32 groups) or 64.
  int product_bits() const noexcept {
    const std::int64_t groups = int32_groups();
    return groups <= max_int32_groups ? 32 : 64;
  }

  /// Whether the weights are formed on the fly (see WeightPath).
  bool weights_on_the_fly() const noexcept { return on_the_fly_; }

  /// The zero point of the input (0 for int8).
  std::int32_t zero_point() const noexcept { return zero_point_; }

  const Conv2dShape& shape() const noexcept { return shape_; }
  const ConvOptions& options() const noexcept { return options_; }

  /// Bytes of scratch memory one `run` call needs (independent of threads).
  std::size_t workspace_size() const {
    const detail::TileGeometry& g = geometry_;
    std::int64_t bytes = 0;
    for (const std::int64_t part :
         {g.staged_input_elements(), mul_or_throw(g.staged_output_elements(), 4),
          mul_or_throw(g.transformed_input_elements(), 2),
          mul_or_throw(g.products_elements(), product_bytes())})
      bytes = add_or_throw(bytes, detail::round_to_line(part));
    return static_cast<std::size_t>(bytes) + AlignedBuffer<std::byte>::alignment;
  }

  /// out = conv(in), exactly: `input` holds shape().input_elements() values,
  /// `output` receives shape().output_elements() int32 values. Uses a
  /// scratch buffer of the calling thread, kept between calls.
  void run(std::span<const In> input, std::span<std::int32_t> output, RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    compute(input.data(), output.data(), detail::thread_scratch(workspace_size()), run_options, KeepValue{});
  }

  /// As above with caller-provided scratch of at least workspace_size() bytes.
  void run(std::span<const In> input, std::span<std::int32_t> output, std::span<std::byte> workspace,
           RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    detail::check_workspace(kWho, shape_, workspace, static_cast<std::int64_t>(workspace_size()),
                            input.data(), output.data());
    compute(input.data(), output.data(), workspace.data(), run_options, KeepValue{});
  }

  /// out = requantize(conv(in)): int8 or uint8 output, each exact int32
  /// result rounded as `requantization` says (1 or out_channels scales).
  template <class Out>
    requires(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::uint8_t>)
  void run(std::span<const In> input, std::span<Out> output, const Requantization& requantization,
           RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    requantization.check<Out>(shape_.out_channels, kWho);
    compute(input.data(), output.data(), detail::thread_scratch(workspace_size()), run_options,
            [&requantization](std::int32_t v, std::int64_t c) { return requantization.apply<Out>(v, c); });
  }

  /// As above with caller-provided scratch of at least workspace_size() bytes.
  template <class Out>
    requires(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::uint8_t>)
  void run(std::span<const In> input, std::span<Out> output, const Requantization& requantization,
           std::span<std::byte> workspace, RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    requantization.check<Out>(shape_.out_channels, kWho);
    detail::check_workspace(kWho, shape_, workspace, static_cast<std::int64_t>(workspace_size()),
                            input.data(), output.data());
    compute(input.data(), output.data(), workspace.data(), run_options,
            [&requantization](std::int32_t v, std::int64_t c) { return requantization.apply<Out>(v, c); });
  }

 private:
  static constexpr const char* kWho =
      std::is_same_v<In, std::int8_t> ? "sfc::Conv2d<int8>" : "sfc::Conv2d<uint8>";
  static constexpr int kPanel = Target::s16_panel;
  static constexpr int kChunkPairs = static_cast<int>(channels_per_int32_sum / 2);
  using V16 = typename Target::i16;
  using TapsP = kernels::TapsS16<Target>;
  using TapsLayout = kernels::TapsData<Target, Target::i16_lanes>;
  /// Bytes of products per (slot, tile, output channel): every int32 group
  /// keeps its own, or one int64.
  std::int64_t product_bytes() const noexcept { return product_bits() == 32 ? 4 * int32_groups() : 8; }

  /// Position of the weight panel (slot q, panel p) in packed_ (see
  /// detail::weight_panel_index).
  std::int64_t panel_index(std::int64_t q, std::int64_t p) const {
    return detail::weight_panel_index(geometry_, fuse_, geometry_.out_channels_padded / kPanel, q,
                                      p);
  }

  /// packed[panel_index(q, panel)][pair][j][2] = (G w[panel * kPanel + j][2 * pair + 0/1])_q.
  void pack_weights(std::span<const std::int8_t> w) {
    const std::int64_t Cin = shape_.in_channels, Cout = shape_.out_channels;
    const std::int64_t Cp = geometry_.in_channels_padded;
    const std::int64_t panels = geometry_.out_channels_padded / kPanel;
    packed_ = AlignedBuffer<std::int16_t>(static_cast<std::size_t>(product_or_throw({T, panels, Cp, kPanel})));
    for (std::int64_t o = 0; o < Cout; ++o)
      for (std::int64_t i = 0; i < Cin; ++i) {
        const std::int8_t* tap = w.data() + (o * Cin + i) * R * R;
        std::int16_t* base = packed_.data() + (i / 2) * 2 * kPanel + (o % kPanel) * 2 + i % 2;
        // All coefficients are integers and the values are far below 2^53:
        // the double arithmetic is exact.
        kernels::transform_weights<algorithm_2d>(
            [&](int a, int b) { return static_cast<double>(tap[a * R + b]); },
            [&](int q, double u) {
              base[panel_index(q, o / kPanel) * Cp * kPanel] = static_cast<std::int16_t>(u);
            });
      }
  }

  /// Channel pairs of the taps: ceil(in_channels / 2).
  std::int64_t tap_pairs() const noexcept { return (shape_.in_channels + 1) / 2; }

  /// taps[((o / i32_lanes * tap_pairs() + i / 2) * R * R + e) * i16_lanes +
  /// 2 * (o % i32_lanes) + i % 2] = w[o][i] at tap e, zero beyond Cout and
  /// Cin (kernels/gemm_taps.hpp).
  void pack_taps(std::span<const std::int8_t> w) {
    const std::int64_t Cin = shape_.in_channels, Cout = shape_.out_channels;
    const std::int64_t vectors = geometry_.out_channels_padded / Target::i32_lanes;
    const std::int64_t pairs = tap_pairs();
    packed_ = AlignedBuffer<std::int16_t>(
        static_cast<std::size_t>(product_or_throw({vectors, pairs, R * R, Target::i16_lanes})));
    for (std::int64_t o = 0; o < Cout; ++o)
      for (std::int64_t i = 0; i < Cin; ++i)
        for (std::int64_t e = 0; e < R * R; ++e)
          packed_.data()[((o / Target::i32_lanes * pairs + i / 2) * R * R + e) * Target::i16_lanes +
                         2 * (o % Target::i32_lanes) + i % 2] =
              w[static_cast<std::size_t>((o * Cin + i) * R * R + e)];
  }

  // The per-tile stages are functions of their own, not lambdas of
  // compute_with: the unrolled transforms are then compiled once per class
  // (input) and product width (output), not once more per output type.

  /// Data transform of the tile whose window starts at src (one vector of
  /// input channels; rows in_row apart, pixels Cp apart): product q to
  /// dst + q * q_stride.
  static void transform_tile(const In* src, std::int64_t in_row, std::int64_t Cp, std::int16_t* dst,
                             std::int64_t q_stride) {
    kernels::InputTransform<algorithm_2d, kernels::I16Ops<Target>>::apply(
        [&](int a, int b) {
          if constexpr (std::is_same_v<In, std::int8_t>) {
            return Target::load_s8(src + a * in_row + b * Cp);
          } else {
            return Target::load_u8(src + a * in_row + b * Cp);
          }
        },
        [&](int q, V16 v) { Target::store_i16(dst + q * q_stride, v); });
  }

  /// Output transform of one tile (one vector of output channels): for each
  /// of `groups` product sets (group_stride apart), products q at
  /// src + q * q_stride, then the exact division; the groups' outputs summed,
  /// bias, ReLU, and the int32 outputs to dst (rows out_row apart, pixels Op
  /// apart; several groups need Ops::value = int32, the outputs' type).
  template <class Ops>
  static void output_tile(const typename Ops::value* src, std::int64_t q_stride, std::int64_t Op,
                          std::int64_t groups, std::int64_t group_stride,
                          const typename Ops::value* bias, bool relu, std::int32_t* dst,
                          std::int64_t out_row) {
    using OutputT = kernels::OutputTransform<algorithm_2d, Ops, true>;
    using V = typename Ops::vec;
    const V b = Ops::load(bias);
    for (std::int64_t group = 0; group < groups; ++group) {
      const typename Ops::value* products = src + group * group_stride;
      const bool first = group == 0, last = group == groups - 1;
      OutputT::apply([&](int q) { return Ops::load(products + q * q_stride); },
                     [&](int i, int j, V v) {
                       std::int32_t* out = dst + i * out_row + j * Op;
                       v = Ops::exact_div(v, OutputT::scale);
                       if constexpr (std::is_same_v<typename Ops::value, std::int32_t>) {
                         if (!first) v = Ops::add(v, Ops::load(out));
                       }
                       if (last) {
                         v = Ops::add(v, b);
                         if (relu) v = Ops::max(v, Ops::zero());
                       }
                       Ops::store_i32(out, v);
                     });
    }
  }

  template <class Out, class Convert>
  void compute(const In* input, Out* output, std::byte* workspace, RunOptions run_options,
               const Convert& convert) const {
    detail::check_planned(kWho, packed_.data());
    if (product_bits() == 32) {
      compute_with<kernels::I32Ops<Target>>(input, output, workspace, run_options, convert);
      return;
    }
    compute_with<kernels::I64Ops<Target>>(input, output, workspace, run_options, convert);
  }

  /// The convolution with products and output transform in Ops::value lanes.
  template <class Ops, class Out, class Convert>
  void compute_with(const In* input, Out* output, std::byte* workspace, RunOptions run_options,
                    const Convert& convert) const {
    using P = typename Ops::value;
    constexpr int kOutLanes = Ops::lanes;
    const int threads = detail::useful_threads(
        detail::resolve_threads(run_options.threads, kWho), shape_.direct_macs());
    const detail::TileGeometry& g = geometry_;
    std::byte* ws = detail::align_up(workspace);
    auto* staged_in = reinterpret_cast<In*>(ws);
    ws += detail::round_to_line(g.staged_input_elements());
    auto* staged_out = reinterpret_cast<std::int32_t*>(ws);
    ws += detail::round_to_line(g.staged_output_elements() * 4);
    auto* transformed = reinterpret_cast<std::int16_t*>(ws);
    ws += detail::round_to_line(g.transformed_input_elements() * 2);
    auto* products = reinterpret_cast<P*>(ws);

    const std::int64_t Cp = g.in_channels_padded, Op = g.out_channels_padded;
    const std::int64_t in_chunks = Cp / Target::i16_lanes;
    const std::int64_t panels = Op / kPanel;
    const std::int64_t in_row = g.staged_in_w * Cp, out_row = g.staged_out_w * Op;
    const int pairs = static_cast<int>(Cp / 2);
    // int32 path: group k holds channel pairs [k * group_pairs, ...), the
    // last one up to the padded channel count; its products group_stride
    // values after the previous group's.
    const std::int64_t groups = std::is_same_v<P, std::int32_t> ? int32_groups() : 1;
    const int group_pairs = static_cast<int>(int32_group_channels / 2);
    const std::int64_t group_stride = g.products_elements();
    const bool relu = options_.relu;
    const P* bias = nullptr;
    if constexpr (std::is_same_v<P, std::int32_t>) {
      bias = bias32_.data();
    } else {
      bias = bias_.data();
    }
    const std::int16_t* packed = packed_.data();

    // Products per group as detail::product_offset lays them out.
    static_assert(kPanel % kOutLanes == 0, "a weight panel must hold whole output vectors");
    // On the fly (int32 products only), as in the fp32 operator
    // (layers/conv2d.hpp): the data in the kernel's layout, grouped as for a
    // whole block; threads split the panels, and the tiles only where there
    // are fewer panels than threads.
    const bool on_the_fly = on_the_fly_;
    const TapsLayout taps_data{g.tiles_per_block, T, Cp};
    const int tap_channels = static_cast<int>(2 * tap_pairs());
    detail::run_tiled(
        g, threads, fuse_, !on_the_fly && detail::split_tiles_for(g, sizeof(std::int16_t)), input,
        options_.input_layout, output, options_.output_layout, staged_in, staged_out, in_chunks,
        panels, kPanel / kOutLanes,
        [&](std::int64_t t, std::int64_t c, const In* window) {
          // Slot q of tile t, channel chunk c: at dst + q * q_stride.
          std::int16_t* dst = on_the_fly ? transformed + taps_data.offset(t, c)
                                         : transformed + t * T * Cp + c * Target::i16_lanes;
          const std::int64_t q_stride =
              on_the_fly ? taps_data.group_size(t) * Target::i16_lanes : Cp;
          transform_tile(window + c * Target::i16_lanes, in_row, Cp, dst, q_stride);
        },
        [&](std::int64_t p, std::int64_t q0, std::int64_t q1, std::int64_t begin,
            std::int64_t end) {
          if constexpr (std::is_same_v<P, std::int32_t>) {
            if (on_the_fly) {  // fused: q0 = 0, q1 = T; one group
              constexpr int kVectors = kPanel / Target::i32_lanes;
              for (std::int64_t v = p * kVectors; v < (p + 1) * kVectors; ++v) {
                kernels::taps_gemm<Target, algorithm_2d, TapsP>(
                    static_cast<int>(begin), static_cast<int>(end), tap_channels, taps_data,
                    packed + v * tap_pairs() * R * R * Target::i16_lanes, transformed,
                    products + detail::product_offset(g, kPanel, begin, 0, v * Target::i32_lanes),
                    T * kPanel, kPanel);
              }
              return;
            }
          }
          const int rows = static_cast<int>(end - begin);
          for (std::int64_t q = q0; q < q1; ++q) {
            const std::int16_t* a = transformed + begin * T * Cp + q * Cp;
            const std::int16_t* panel = packed + panel_index(q, p) * Cp * kPanel;
            P* c = products + detail::product_offset(g, kPanel, begin, q, p * kPanel);
            if constexpr (std::is_same_v<P, std::int32_t>) {
              for (std::int64_t group = 0; group < groups; ++group) {
                const int first = static_cast<int>(group) * group_pairs;
                const int n = group == groups - 1 ? pairs - first : group_pairs;
                kernels::s16_gemm_i32<Target>(rows, n, a + 2 * first, T * Cp,
                                              panel + 2 * first * kPanel, c + group * group_stride,
                                              T * kPanel);
              }
            } else {
              kernels::s16_gemm<Target>(rows, pairs, kChunkPairs, a, T * Cp, panel, c, T * kPanel);
            }
          }
        },
        [&](std::int64_t t, std::int64_t c, std::int32_t* tile) {
          const P* src = products + detail::product_offset(g, kPanel, t, 0, c * kOutLanes);
          output_tile<Ops>(src, kPanel, Op, groups, group_stride, bias + c * kOutLanes, relu,
                           tile + c * kOutLanes, out_row);
        },
        convert, static_cast<In>(zero_point_));
  }

  Conv2dShape shape_;
  ConvOptions options_;
  std::int32_t zero_point_ = 0;
  detail::TileGeometry geometry_;
  bool fuse_ = false;  ///< run_tiled fuses (fixed at plan time: the weight order depends on it)
  bool on_the_fly_ = false;             ///< weights formed from the taps in the kernel
  AlignedBuffer<std::int16_t> packed_;  ///< transformed weights, or the taps (pack_taps)
  AlignedBuffer<std::int64_t> bias_;  ///< bias - zero_point * (sum of weights), per channel
  AlignedBuffer<std::int32_t> bias32_;  ///< the same in int32, for the int32 path only
};

}  // namespace detail

/// Exact int8 convolution (see the file comment).
template <class Algorithm, class Target>
class Conv2d<std::int8_t, Algorithm, Target> : public detail::ExactConv2d<std::int8_t, Algorithm, Target> {
  using Base = detail::ExactConv2d<std::int8_t, Algorithm, Target>;

 public:
  /// See ExactConv2d: int8 input has no zero point.
  Conv2d(const Conv2dShape& shape, std::span<const std::int8_t> weights,
         std::span<const std::int32_t> bias = {}, ConvOptions options = {})
      : Base(shape, weights, bias, 0, options) {}
};

/// Exact convolution of uint8 input with a zero point: the real input is
/// x - zero_point, and padding is real zero.
template <class Algorithm, class Target>
class Conv2d<std::uint8_t, Algorithm, Target> : public detail::ExactConv2d<std::uint8_t, Algorithm, Target> {
  using Base = detail::ExactConv2d<std::uint8_t, Algorithm, Target>;

 public:
  Conv2d(const Conv2dShape& shape, std::span<const std::int8_t> weights,
         std::span<const std::int32_t> bias, std::int32_t zero_point, ConvOptions options = {})
      : Base(shape, weights, bias, zero_point, options) {}
};

}  // namespace sfc
