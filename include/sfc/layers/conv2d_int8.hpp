#pragma once
/// \file
/// `sfc::Conv2d<std::int8_t, Algorithm, Target>`: exact int8 convolution
/// through an SFC algorithm. int8 input (NCHW or NHWC), int8 OIHW weights,
/// optional int32 bias, int32 output **bit-identical to direct int8
/// convolution** (`sfc::reference::conv2d_direct`), for every input.
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
///   then one exact division by the known scale (a multiple of N^2).
/// The construction rejects shapes whose int32 output could overflow
/// (in_channels * R * R * 128 * 128 + |bias| > 2^31 - 1).
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

#include "sfc/core/aligned_buffer.hpp"
#include "sfc/core/buffers.hpp"
#include "sfc/core/checked.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/core/parallel.hpp"
#include "sfc/kernels/gemm_s16.hpp"
#include "sfc/kernels/int_ops.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/tile_transform.hpp"
#include "sfc/layers/conv2d.hpp"
#include "sfc/layers/tiling.hpp"
#include "sfc/transforms/bounds.hpp"

namespace sfc {

template <class Algorithm, class Target>
class Conv2d<std::int8_t, Algorithm, Target> {
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
  static_assert(int8_data_fits_int16<algorithm_2d>(), "transformed int8 data must fit int16");
  static_assert(int8_weight_fits_int16<algorithm_2d>(), "transformed int8 weights must fit int16");
  static_assert(Target::has_int8_kernels, "this SIMD target has no int8 kernels");
  /// Input channels whose products are summed in int32 before widening.
  static constexpr std::int64_t channels_per_int32_sum = int32_channel_limit<algorithm_2d>();
  static_assert(channels_per_int32_sum >= 2, "an int32 sum must hold at least one channel pair");

  /// Plans the convolution: validates `shape` (kernel R x R; the int32
  /// output cannot overflow), `weights` (OIHW) and `bias` (empty or
  /// out_channels values), then transforms and packs the weights exactly.
  Conv2d(const Conv2dShape& shape, std::span<const std::int8_t> weights,
         std::span<const std::int32_t> bias = {}, ConvOptions options = {})
      : shape_(shape), options_(options) {
    throw_if_error(shape.validate(), kWho);
    detail::check_kernel(kWho, shape, R);
    detail::check_bias(kWho, shape, bias);
    std::int64_t max_bias = 0;
    for (const std::int32_t b : bias) max_bias = std::max<std::int64_t>(max_bias, b < 0 ? -std::int64_t{b} : b);
    // |output| <= Cin * R * R * 128 * 128 + |bias| must fit int32.
    const std::int64_t per_channel = std::int64_t{R} * R * kInt8MaxMagnitude * kInt8MaxMagnitude;
    if (shape.in_channels > (kInt32Max - max_bias) / per_channel) {
      throw Error(std::string(kWho) + ": in_channels = " + std::to_string(shape.in_channels) +
                  " can overflow the int32 output (at most " +
                  std::to_string((kInt32Max - max_bias) / per_channel) + " input channels for a " +
                  std::to_string(R) + "x" + std::to_string(R) + " kernel with this bias)");
    }
    detail::check_buffer(kWho, "weight", weights, shape.weight_elements());
    geometry_ = detail::make_tile_geometry(
        shape, M, R, T,
        detail::BlockingPolicy{.in_lanes = Target::i16_lanes,
                               .out_multiple = kPanel,
                               .gemm_rows = Target::s16_gemm_rows,
                               .element_bytes = sizeof(std::int64_t)});
    pack_weights(weights);
    bias_ = AlignedBuffer<std::int32_t>(static_cast<std::size_t>(geometry_.out_channels_padded));
    for (std::size_t o = 0; o < bias.size(); ++o) bias_.data()[o] = bias[o];
  }

  const Conv2dShape& shape() const noexcept { return shape_; }
  const ConvOptions& options() const noexcept { return options_; }

  /// Bytes of scratch memory one `run` call needs (independent of threads).
  std::size_t workspace_size() const {
    const detail::TileGeometry& g = geometry_;
    std::int64_t bytes = 0;
    for (const std::int64_t part :
         {g.staged_input_elements(), mul_or_throw(g.staged_output_elements(), 4),
          mul_or_throw(g.transformed_input_elements(), 2), mul_or_throw(g.products_elements(), 8)})
      bytes = add_or_throw(bytes, round_to_line(part));
    return static_cast<std::size_t>(bytes) + AlignedBuffer<std::byte>::alignment;
  }

  /// out = conv(in), exactly: `input` holds shape().input_elements() int8
  /// values, `output` receives shape().output_elements() int32 values. Uses
  /// a scratch buffer of the calling thread, kept between calls.
  void run(std::span<const std::int8_t> input, std::span<std::int32_t> output,
           RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    compute(input.data(), output.data(), detail::thread_scratch(workspace_size()), run_options);
  }

  /// As above with caller-provided scratch of at least workspace_size() bytes.
  void run(std::span<const std::int8_t> input, std::span<std::int32_t> output,
           std::span<std::byte> workspace, RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    detail::check_workspace(kWho, shape_, workspace, static_cast<std::int64_t>(workspace_size()),
                            input.data(), output.data());
    compute(input.data(), output.data(), workspace.data(), run_options);
  }

 private:
  static constexpr const char* kWho = "sfc::Conv2d<int8>";
  static constexpr int kPanel = Target::s16_panel;
  static constexpr int kOutLanes = Target::i64_lanes;
  using V16 = typename Target::i16;
  using V64 = typename Target::i64;

  static std::int64_t round_to_line(std::int64_t bytes) { return (bytes + 63) / 64 * 64; }

  /// packed[q][panel][pair][j][2] = (G w[panel * kPanel + j][2 * pair + 0/1])_q.
  void pack_weights(std::span<const std::int8_t> w) {
    const std::int64_t Cin = shape_.in_channels, Cout = shape_.out_channels;
    const std::int64_t Cp = geometry_.in_channels_padded;
    const std::int64_t panels = geometry_.out_channels_padded / kPanel;
    packed_ = AlignedBuffer<std::int16_t>(static_cast<std::size_t>(product_or_throw({T, panels, Cp, kPanel})));
    for (std::int64_t o = 0; o < Cout; ++o)
      for (std::int64_t i = 0; i < Cin; ++i) {
        const std::int8_t* tap = w.data() + (o * Cin + i) * R * R;
        std::int16_t* base = packed_.data() + (o / kPanel) * Cp * kPanel + (i / 2) * 2 * kPanel +
                             (o % kPanel) * 2 + i % 2;
        // All coefficients are integers and the values are far below 2^53:
        // the double arithmetic is exact.
        kernels::transform_weights<algorithm_2d>(
            [&](int a, int b) { return static_cast<double>(tap[a * R + b]); },
            [&](int q, double u) { base[q * panels * Cp * kPanel] = static_cast<std::int16_t>(u); });
      }
  }

  void compute(const std::int8_t* input, std::int32_t* output, std::byte* workspace,
               RunOptions run_options) const {
    const int threads = detail::useful_threads(
        detail::resolve_threads(run_options.threads, kWho), shape_.direct_macs());
    const detail::TileGeometry& g = geometry_;
    std::byte* ws = align(workspace);
    auto* staged_in = reinterpret_cast<std::int8_t*>(ws);
    ws += round_to_line(g.staged_input_elements());
    auto* staged_out = reinterpret_cast<std::int32_t*>(ws);
    ws += round_to_line(g.staged_output_elements() * 4);
    auto* transformed = reinterpret_cast<std::int16_t*>(ws);
    ws += round_to_line(g.transformed_input_elements() * 2);
    auto* products = reinterpret_cast<std::int64_t*>(ws);

    const std::int64_t Cp = g.in_channels_padded, Op = g.out_channels_padded;
    const std::int64_t in_chunks = Cp / Target::i16_lanes, out_chunks = Op / kOutLanes;
    const std::int64_t panels = Op / kPanel;
    const std::int64_t in_row = g.staged_in_w * Cp, out_row = g.staged_out_w * Op;
    const int pairs = static_cast<int>(Cp / 2);
    const int chunk_pairs = static_cast<int>(channels_per_int32_sum / 2);
    const bool relu = options_.relu;
    const std::int32_t* bias = bias_.data();
    const std::int16_t* packed = packed_.data();

    detail::run_tiled(
        g, threads, input, options_.input_layout, output, options_.output_layout, staged_in,
        staged_out, in_chunks, T * panels, out_chunks,
        [&](std::int64_t t, std::int64_t c, const std::int8_t* window) {
          const std::int8_t* src = window + c * Target::i16_lanes;
          std::int16_t* dst = transformed + t * T * Cp + c * Target::i16_lanes;
          kernels::InputTransform<algorithm_2d, kernels::I16Ops<Target>>::apply(
              [&](int a, int b) { return Target::load_s8(src + a * in_row + b * Cp); },
              [&](int q, V16 v) { Target::store_i16(dst + q * Cp, v); });
        },
        [&](std::int64_t item, std::int64_t tiles) {
          const std::int64_t q = item / panels, p = item % panels;
          kernels::s16_gemm<Target>(static_cast<int>(tiles), pairs, chunk_pairs,
                                    transformed + q * Cp, T * Cp,
                                    packed + (q * panels + p) * Cp * kPanel,
                                    products + q * Op + p * kPanel, T * Op);
        },
        [&](std::int64_t t, std::int64_t c, std::int32_t* tile) {
          const std::int64_t* src = products + t * T * Op + c * kOutLanes;
          std::int32_t* dst = tile + c * kOutLanes;
          const V64 b = Target::load_i32_as_i64(bias + c * kOutLanes);
          Output::apply([&](int q) { return Target::load_i64(src + q * Op); },
                        [&](int i, int j, V64 v) {
                          v = Target::add_i64(Target::exact_div_i64(v, Output::scale), b);
                          if (relu) v = Target::max_i64(v, Target::zero_i64());
                          Target::store_i64_as_i32(dst + i * out_row + j * Op, v);
                        });
        });
  }

  static std::byte* align(std::byte* p) {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t mask = AlignedBuffer<std::byte>::alignment - 1;
    return reinterpret_cast<std::byte*>((address + mask) & ~mask);
  }

  Conv2dShape shape_;
  ConvOptions options_;
  detail::TileGeometry geometry_;
  AlignedBuffer<std::int16_t> packed_;
  AlignedBuffer<std::int32_t> bias_;
};

}  // namespace sfc
