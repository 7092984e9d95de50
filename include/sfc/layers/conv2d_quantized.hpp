#pragma once
/// \file
/// `sfc::QuantizedConv2d<Algorithm, Target>`: fast convolution with the
/// transform domain quantized frequency-wise (the SFC paper's int8 scheme).
///
/// Pipeline, per tile (T transform slots q, Cin input and Cout output
/// channels):
/// 1. int8 input x (real value input_scale * x), data transform in int16:
///    exact, since SFC's (and Winograd's) data transforms are integer;
/// 2. each transformed value v of slot q becomes a b-bit code
///      code = clamp(round_half_even(float(v) * multiplier[q]),
///                   -2^(b-1), 2^(b-1) - 1),
///    multiplier[q] = float(input_scale / data_scale[q]), b = data_bits
///    (a plan whose |v| * multiplier[q] could exceed 2^30 for some int8
///    input is rejected: data scales that small clip every code anyway);
/// 3. weights are transformed once in double and quantized symmetrically
///    to weight_bits: code = clamp(round_half_even(u / s), -(2^(b-1) - 1),
///    2^(b-1) - 1), one scale s per (slot, output channel), per slot, per
///    output channel or per tensor (WeightGranularity);
/// 4. codes are multiplied and summed over input channels exactly in int32
///    (kernels/gemm_q8.hpp), then dequantized per (slot, output channel):
///    float(sum) * float(data_scale[q] * weight_scale[q][o]);
/// 5. the output transform runs in float, then bias and optional ReLU give
///    float output, or int8 output requantized as
///    round_half_even(clamp(y * (1 / output_scale), -128, 127)).
///
/// Scales are inputs (calibration produces them). Defaults: per-slot data
/// scales that can never clip (the largest |v| any int8 input can produce
/// in that slot, divided by 2^(b-1) - 1), which is safe but coarse; data
/// scales from sample inputs come from `observe_max_abs`; weight scales
/// default to the max-abs of the transformed weights in each group.
///
/// Error: with scales that do not clip, every data code is within half a
/// step of the exact transformed value and every weight code within half a
/// step of the exact transformed weight, so the output differs from the
/// float convolution of the same int8 input by at most
///   sum_q |A_q| sum_c (|d - d^| |u^| + |d| |u - u^|)
/// (A_q: the output transform's coefficients of slot q) plus float
/// rounding; tests/test_conv2d_quantized.cpp checks this bound output by
/// output, and that SFC's errors are several times smaller than Winograd
/// F(4x4, 3x3)'s under the same scheme.
///
/// Same plan-then-run contract as the fp32 operator (sfc/layers/conv2d.hpp);
/// the workspace is counted in bytes.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sfc/core/aligned_buffer.hpp"
#include "sfc/core/buffers.hpp"
#include "sfc/core/checked.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/core/parallel.hpp"
#include "sfc/kernels/gemm_q8.hpp"
#include "sfc/kernels/int_ops.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/tile_transform.hpp"
#include "sfc/layers/conv2d.hpp"
#include "sfc/layers/tiling.hpp"
#include "sfc/transforms/bounds.hpp"

namespace sfc {

/// Which transformed weights share one quantization scale.
enum class WeightGranularity {
  tensor,        ///< one scale
  slot,          ///< one per transform slot (frequency-wise)
  channel,       ///< one per output channel
  slot_channel,  ///< one per (slot, output channel): the paper's choice
};

/// Quantization parameters of a QuantizedConv2d.
struct QuantizationParams {
  /// Real value of one step of the int8 input.
  float input_scale = 1.0f;
  /// Bits of the transformed data and weight codes, 4 to 8.
  int data_bits = 8;
  int weight_bits = 8;
  WeightGranularity weight_granularity = WeightGranularity::slot_channel;
  /// Real value of one step of the data codes: T values (one per slot), or
  /// one for every slot. Empty: the never-clipping default (see the file
  /// comment).
  std::vector<float> data_scales;
  /// Real value of one step of the weight codes, by granularity: 1, T,
  /// Cout, or T * Cout values (slot-major: index q * Cout + o). Empty: the
  /// max-abs of each group.
  std::vector<float> weight_scales;
};

/// Group of (slot q, output channel o) under a weight granularity, and the
/// number of groups (the size of QuantizationParams::weight_scales; index
/// weight_group(g, q, o, Cout) there).
inline std::int64_t weight_group(WeightGranularity g, int q, std::int64_t o,
                                 std::int64_t out_channels) noexcept {
  switch (g) {
    case WeightGranularity::tensor:
      return 0;
    case WeightGranularity::slot:
      return q;
    case WeightGranularity::channel:
      return o;
    case WeightGranularity::slot_channel:
      break;
  }
  return q * out_channels + o;
}
inline std::int64_t weight_groups(WeightGranularity g, int slots,
                                  std::int64_t out_channels) noexcept {
  switch (g) {
    case WeightGranularity::tensor:
      return 1;
    case WeightGranularity::slot:
      return slots;
    case WeightGranularity::channel:
      return out_channels;
    case WeightGranularity::slot_channel:
      break;
  }
  return slots * out_channels;
}

namespace detail {

/// Throws unless `g` is one of the enumerators (a value cast from an
/// out-of-range integer is not).
inline void check_granularity(std::string_view who, WeightGranularity g) {
  if (g != WeightGranularity::tensor && g != WeightGranularity::slot &&
      g != WeightGranularity::channel && g != WeightGranularity::slot_channel) {
    throw Error(std::string(who) + ": weight_granularity is not a WeightGranularity (value " +
                std::to_string(static_cast<int>(g)) + ")");
  }
}

}  // namespace detail

/// Target: the SIMD target of its kernels; by default simd::NativeQuantized,
/// which is simd::Amx (the GEMM on AMX tiles, kernels/simd/amx.hpp) in builds
/// with AMX and simd::Native otherwise. Every target gives the same int32
/// sums, so the same outputs.
template <class Algorithm, class Target = simd::NativeQuantized>
class QuantizedConv2d {
 public:
  using algorithm_2d = algorithm_2d_t<Algorithm>;
  using target = Target;
  static constexpr int M = algorithm_2d::M;
  static constexpr int R = algorithm_2d::R;
  static constexpr int T = algorithm_2d::T;

 private:
  using Maps = kernels::TileMaps<algorithm_2d>;

 public:
  static_assert(kernels::detail::denominator_of(Maps::dx) == 1 &&
                    kernels::detail::denominator_of(Maps::forms) == 1,
                "the quantized operator needs an integer data transform");
  static_assert(int8_data_fits_int16<algorithm_2d>(), "transformed int8 data must fit int16");
  static_assert(Target::has_q8_kernels, "this SIMD target has no quantized int8 kernels");

  /// Plans the convolution: validates `shape` (kernel R x R, at most
  /// kernels::kMaxQ8Channels input channels), `weights` (OIHW, finite),
  /// `bias` (empty or out_channels finite values) and `params`, then
  /// transforms, quantizes and packs the weights.
  QuantizedConv2d(const Conv2dShape& shape, std::span<const float> weights,
                  std::span<const float> bias, const QuantizationParams& params,
                  ConvOptions options = {})
      : shape_(shape), options_(options), params_(params) {
    throw_if_error(shape.validate(), kWho);
    detail::check_kernel(kWho, shape, R);
    detail::check_options(kWho, options);
    detail::check_weights_transformed(kWho, options);
    if (shape.in_channels > kernels::kMaxQ8Channels) {
      throw Error(std::string(kWho) + ": in_channels = " + std::to_string(shape.in_channels) +
                  " exceeds " + std::to_string(kernels::kMaxQ8Channels) +
                  " (the int32 sums could overflow)");
    }
    detail::check_buffer(kWho, "weight", weights, shape.weight_elements());
    detail::check_bias(kWho, shape, bias);
    detail::check_finite(kWho, "weight", weights.first(static_cast<std::size_t>(shape.weight_elements())));
    detail::check_finite(kWho, "bias", bias);
    check_params();
    geometry_ = detail::make_tile_geometry(kWho, shape, M, R, T,
                                           detail::BlockingPolicy{.in_lanes = Target::i16_lanes,
                                                                  .out_multiple = kPanel,
                                                                  .gemm_rows = Target::q8_gemm_rows,
                                                                  .input_bytes = 1,
                                                                  .product_bytes = sizeof(float)});
    set_data_scales();
    fuse_ = detail::fuse_panels(geometry_, sizeof(float));
    pack_weights(weights);
    bias_ = AlignedBuffer<float>(static_cast<std::size_t>(geometry_.out_channels_padded));
    for (std::size_t o = 0; o < bias.size(); ++o) bias_.data()[o] = bias[o];
  }

  const Conv2dShape& shape() const noexcept { return shape_; }
  const ConvOptions& options() const noexcept { return options_; }
  const QuantizationParams& params() const noexcept { return params_; }

  /// The data scale of every slot (T values).
  std::span<const float> data_scales() const noexcept { return data_scales_; }
  /// float(input_scale / data_scale[q]) for every slot q.
  std::span<const float> data_multipliers() const noexcept { return multipliers_; }
  /// Smallest and largest data code.
  std::pair<std::int32_t, std::int32_t> data_code_range() const noexcept {
    return {-(std::int32_t{1} << (params_.data_bits - 1)), (std::int32_t{1} << (params_.data_bits - 1)) - 1};
  }
  /// The weight scale of (slot q, output channel o), whatever the
  /// granularity. Throws sfc::Error for an index out of range.
  float weight_scale(int q, std::int64_t o) const {
    check_index(q, o, 0);
    return weight_scales_[index(q, o)];
  }
  /// The weight code of (slot q, output channel o, input channel c). Throws
  /// sfc::Error for an index out of range.
  std::int32_t weight_code(int q, std::int64_t o, std::int64_t c) const {
    check_index(q, o, c);
    const std::int64_t Cp = geometry_.in_channels_padded;
    return packed_
        .data()[(panel_index(q, o / kPanel) * Cp + c / 4 * 4) * kPanel + (o % kPanel) * 4 + c % 4];
  }

  /// The largest |transformed value| of every slot over `input` (int8,
  /// `layout`, the shape of `shape`): exact integers. Scales from sample
  /// inputs: data_scale[q] = max(max_abs[q], 1) * input_scale / (2^(b-1) - 1)
  /// (a slot the samples never made non-zero still needs a positive scale).
  static std::vector<std::int32_t> observe_max_abs(const Conv2dShape& shape,
                                                   std::span<const std::int8_t> input,
                                                   Layout layout = Layout::NCHW) {
    throw_if_error(shape.validate(), kWho);
    detail::check_kernel(kWho, shape, R);
    detail::check_layout(kWho, "layout", layout);
    detail::check_buffer(kWho, "input", input, shape.input_elements());
    std::vector<std::int32_t> max_abs(T, 0);
    const std::int64_t H = shape.height, W = shape.width, C = shape.in_channels;
    const std::int64_t tiles_h = detail::ceil_div(shape.output_height(), M);
    const std::int64_t tiles_w = detail::ceil_div(shape.output_width(), M);
    const auto at = [&](std::int64_t n, std::int64_t c, std::int64_t y, std::int64_t x) -> std::int32_t {
      if (y < 0 || y >= H || x < 0 || x >= W) return 0;
      return input[static_cast<std::size_t>(layout == Layout::NCHW ? ((n * C + c) * H + y) * W + x
                                                                   : ((n * H + y) * W + x) * C + c)];
    };
    for (std::int64_t n = 0; n < shape.batch; ++n)
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t ty = 0; ty < tiles_h; ++ty)
          for (std::int64_t tx = 0; tx < tiles_w; ++tx)
            kernels::transform_data_runtime<algorithm_2d>(
                [&](int a, int b) { return at(n, c, ty * M + a - shape.pad_top, tx * M + b - shape.pad_left); },
                [&](int q, double v) {
                  auto& m = max_abs[static_cast<std::size_t>(q)];
                  m = std::max(m, static_cast<std::int32_t>(std::abs(v)));
                });
    return max_abs;
  }

  /// Bytes of scratch memory one `run` call needs (independent of threads
  /// and of the output type).
  std::size_t workspace_size() const {
    const detail::TileGeometry& g = geometry_;
    std::int64_t bytes = 0;
    for (const std::int64_t part :
         {g.staged_input_elements(), mul_or_throw(g.staged_output_elements(), 4),
          g.transformed_input_elements(), mul_or_throw(g.products_elements(), 4)})
      bytes = add_or_throw(bytes, detail::round_to_line(part));
    return static_cast<std::size_t>(bytes) + AlignedBuffer<std::byte>::alignment;
  }

  /// Float output: `input` holds shape().input_elements() int8 values,
  /// `output` receives shape().output_elements() floats. Uses a scratch
  /// buffer of the calling thread, kept between calls.
  void run(std::span<const std::int8_t> input, std::span<float> output, RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    compute(input.data(), output.data(), 1.0f, detail::thread_scratch(workspace_size()), run_options);
  }

  /// int8 output requantized with `output_scale` (the real value of one
  /// output step; finite and > 0).
  void run(std::span<const std::int8_t> input, std::span<std::int8_t> output, float output_scale,
           RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    compute(input.data(), output.data(), output_multiplier(output_scale),
            detail::thread_scratch(workspace_size()), run_options);
  }

  /// As above with caller-provided scratch of at least workspace_size() bytes.
  void run(std::span<const std::int8_t> input, std::span<float> output, std::span<std::byte> workspace,
           RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    detail::check_workspace(kWho, shape_, workspace, static_cast<std::int64_t>(workspace_size()),
                            input.data(), output.data());
    compute(input.data(), output.data(), 1.0f, workspace.data(), run_options);
  }
  void run(std::span<const std::int8_t> input, std::span<std::int8_t> output, float output_scale,
           std::span<std::byte> workspace, RunOptions run_options = {}) const {
    detail::check_run_buffers(kWho, shape_, input, output);
    detail::check_workspace(kWho, shape_, workspace, static_cast<std::int64_t>(workspace_size()),
                            input.data(), output.data());
    compute(input.data(), output.data(), output_multiplier(output_scale), workspace.data(), run_options);
  }

 private:
  static constexpr const char* kWho = "sfc::QuantizedConv2d";
  static constexpr int kPanel = Target::q8_panel;
  /// Largest |transformed value * multiplier| a plan may produce (the data
  /// codes are rounded from it in int32).
  static constexpr double kMaxScaledData = 0x1p30;
  static constexpr int kLanes = Target::f32_lanes;
  static_assert(kPanel % kLanes == 0, "a weight panel must hold whole float vectors");
  using V = typename Target::f32;
  using V16 = typename Target::i16;
  using Output = kernels::OutputTransform<algorithm_2d, kernels::F32Ops<Target>>;

  /// Position of the weight panel (slot q, panel p) in packed_ (see
  /// detail::weight_panel_index).
  std::int64_t panel_index(std::int64_t q, std::int64_t p) const {
    return detail::weight_panel_index(geometry_, fuse_, geometry_.out_channels_padded / kPanel, q,
                                      p);
  }

  std::size_t index(int q, std::int64_t o) const {
    return static_cast<std::size_t>(q * shape_.out_channels + o);
  }

  [[noreturn]] void fail(const std::string& message) const { throw Error(std::string(kWho) + ": " + message); }

  /// Throws unless q < T, o < out_channels, c < in_channels (all >= 0) in a
  /// planned (not moved-from) operator.
  void check_index(int q, std::int64_t o, std::int64_t c) const {
    detail::check_planned(kWho, packed_.data());
    if (q < 0 || q >= T || o < 0 || o >= shape_.out_channels || c < 0 || c >= shape_.in_channels) {
      fail("index (slot " + std::to_string(q) + ", output channel " + std::to_string(o) +
           ", input channel " + std::to_string(c) + ") is outside [0, " + std::to_string(T) +
           ") x [0, " + std::to_string(shape_.out_channels) + ") x [0, " +
           std::to_string(shape_.in_channels) + ")");
    }
  }

  float output_multiplier(float output_scale) const {
    detail::check_scale(kWho, "output_scale", output_scale);
    return 1.0f / output_scale;
  }

  void check_params() const {
    const QuantizationParams& p = params_;
    detail::check_scale(kWho, "input_scale", p.input_scale);
    detail::check_granularity(kWho, p.weight_granularity);
    for (const int bits : {p.data_bits, p.weight_bits}) {
      detail::check_code_bits(kWho, "data_bits and weight_bits", bits);
    }
    if (!p.data_scales.empty() && p.data_scales.size() != 1 && p.data_scales.size() != T) {
      fail("data_scales must hold 0, 1 or " + std::to_string(T) + " values (got " +
           std::to_string(p.data_scales.size()) + ")");
    }
    const std::int64_t Cout = shape_.out_channels;
    const std::int64_t expected = weight_groups(p.weight_granularity, T, Cout);
    if (!p.weight_scales.empty() && static_cast<std::int64_t>(p.weight_scales.size()) != expected) {
      fail("weight_scales must hold 0 or " + std::to_string(expected) + " values for this granularity (got " +
           std::to_string(p.weight_scales.size()) + ")");
    }
    for (const float s : p.data_scales) detail::check_scale(kWho, "data scales", s);
    for (const float s : p.weight_scales) detail::check_scale(kWho, "weight scales", s);
  }

  /// Data scales and the multipliers of the data codes.
  void set_data_scales() {
    const std::int32_t qmax = (std::int32_t{1} << (params_.data_bits - 1)) - 1;
    data_scales_.assign(T, 0.0f);
    multipliers_.assign(T, 0.0f);
    // Never-clipping default: 128 * (L1 norm of the slot's data transform).
    std::array<double, T> l1{};
    for (int a = 0; a < Maps::L; ++a)
      for (int b = 0; b < Maps::L; ++b)
        kernels::transform_data_runtime<algorithm_2d>(
            [&](int i, int j) { return (i == a && j == b) ? 1.0 : 0.0; },
            [&](int q, double v) { l1[static_cast<std::size_t>(q)] += std::abs(v); });
    for (int q = 0; q < T; ++q) {
      const auto k = static_cast<std::size_t>(q);
      float s = params_.data_scales.empty()     ? static_cast<float>(l1[k] * kInt8MaxMagnitude * params_.input_scale / qmax)
                : params_.data_scales.size() == 1 ? params_.data_scales[0]
                                                  : params_.data_scales[k];
      if (!detail::usable_scale(s)) {  // only the default can be: given scales were checked
        fail("the default data scale of slot " + std::to_string(q) + " (" + detail::format_g(s) +
             ") is out of float range (input_scale = " + detail::format_g(params_.input_scale) +
             ")");
      }
      data_scales_[k] = s;
      multipliers_[k] = params_.input_scale / s;
      if (!detail::usable_scale(multipliers_[k])) {
        fail("input_scale / data_scale of slot " + std::to_string(q) + " is out of float range");
      }
      // float(v) * multiplier must stay inside int32 for every int8 input,
      // so that rounding it to an integer (then clamping) is defined.
      if (l1[k] * kInt8MaxMagnitude * multipliers_[k] > kMaxScaledData) {
        fail("the data scale of slot " + std::to_string(q) + " is too small for input_scale (" +
             detail::format_g(s) + " vs " + detail::format_g(params_.input_scale) +
             "): transformed values would exceed 2^30 data steps");
      }
    }
  }

  /// Transforms the weights, picks their scales, quantizes and packs them.
  void pack_weights(std::span<const float> w) {
    const std::int64_t Cin = shape_.in_channels, Cout = shape_.out_channels;
    const std::int64_t Cp = geometry_.in_channels_padded, Op = geometry_.out_channels_padded;
    // u[(q * Cout + o) * Cin + c], in double.
    std::vector<double> u(static_cast<std::size_t>(product_or_throw({T, Cout, Cin})));
    for (std::int64_t o = 0; o < Cout; ++o)
      for (std::int64_t c = 0; c < Cin; ++c) {
        const float* tap = w.data() + (o * Cin + c) * R * R;
        kernels::transform_weights<algorithm_2d>(
            [&](int a, int b) { return static_cast<double>(tap[a * R + b]); },
            [&](int q, double v) { u[(index(q, o)) * static_cast<std::size_t>(Cin) + static_cast<std::size_t>(c)] = v; });
      }
    const std::int32_t wmax = (std::int32_t{1} << (params_.weight_bits - 1)) - 1;
    // Group of (q, o) under the granularity, and the default max-abs scales.
    const auto group = [&](int q, std::int64_t o) {
      return static_cast<std::size_t>(weight_group(params_.weight_granularity, q, o, Cout));
    };
    std::vector<float> scales = params_.weight_scales;
    if (scales.empty()) {
      std::vector<double> max_abs(static_cast<std::size_t>(T * Cout), 0.0);
      for (int q = 0; q < T; ++q)
        for (std::int64_t o = 0; o < Cout; ++o)
          for (std::int64_t c = 0; c < Cin; ++c)
            max_abs[group(q, o)] = std::max(max_abs[group(q, o)], std::abs(u[index(q, o) * static_cast<std::size_t>(Cin) + static_cast<std::size_t>(c)]));
      scales.assign(max_abs.size(), 1.0f);
      for (std::size_t i = 0; i < max_abs.size(); ++i)
        if (max_abs[i] > 0) scales[i] = static_cast<float>(max_abs[i] / wmax);
    }
    weight_scales_.assign(static_cast<std::size_t>(T * Cout), 0.0f);
    packed_ = AlignedBuffer<std::int8_t>(static_cast<std::size_t>(product_or_throw({T, Op, Cp})));
    init_ = AlignedBuffer<std::int32_t>(static_cast<std::size_t>(T * Op));
    dequant_ = AlignedBuffer<float>(static_cast<std::size_t>(T * Op));
    for (int q = 0; q < T; ++q)
      for (std::int64_t o = 0; o < Cout; ++o) {
        const float s = scales[group(q, o)];
        // Only a default (max-abs) scale can fail here: given ones were checked.
        if (!detail::usable_scale(s)) {
          fail("the default (max-abs) weight scale of slot " + std::to_string(q) +
               ", output channel " + std::to_string(o) + " is " + detail::format_g(s) +
               ", not a normal float: the transformed weights are too small or too large to "
               "quantize");
        }
        weight_scales_[index(q, o)] = s;
        const float combined = data_scales_[static_cast<std::size_t>(q)] * s;
        if (!detail::usable_scale(combined) || combined > 0x1p60f) {
          fail("data_scale * weight_scale of slot " + std::to_string(q) + " is out of range (" +
               detail::format_g(combined) +
               "; it must be a normal float of at most 2^60, so that dequantized int32 sums stay "
               "well inside float range)");
        }
        std::int8_t* panel =
            packed_.data() + panel_index(q, o / kPanel) * Cp * kPanel + (o % kPanel) * 4;
        std::int64_t sum = 0;
        for (std::int64_t c = 0; c < Cin; ++c) {
          const double v = u[index(q, o) * static_cast<std::size_t>(Cin) + static_cast<std::size_t>(c)] / s;
          const auto code = static_cast<std::int32_t>(std::clamp<double>(std::nearbyint(v), -wmax, wmax));
          panel[c / 4 * 4 * kPanel + c % 4] = static_cast<std::int8_t>(code);
          sum += code;
        }
        init_.data()[q * Op + o] = static_cast<std::int32_t>(-Target::q8_data_offset * sum);
        dequant_.data()[q * Op + o] = combined;
      }
  }

  template <class Out>
  void compute(const std::int8_t* input, Out* output, float output_multiplier, std::byte* workspace,
               RunOptions run_options) const {
    detail::check_planned(kWho, packed_.data());
    const int threads = detail::useful_threads(
        detail::resolve_threads(run_options.threads, kWho), shape_.direct_macs());
    const detail::TileGeometry& g = geometry_;
    std::byte* ws = detail::align_up(workspace);
    auto* staged_in = reinterpret_cast<std::int8_t*>(ws);
    ws += detail::round_to_line(g.staged_input_elements());
    auto* staged_out = reinterpret_cast<Out*>(ws);
    ws += detail::round_to_line(g.staged_output_elements() * 4);
    auto* codes = reinterpret_cast<std::int8_t*>(ws);
    ws += detail::round_to_line(g.transformed_input_elements());
    auto* products = reinterpret_cast<float*>(ws);

    const std::int64_t Cp = g.in_channels_padded, Op = g.out_channels_padded;
    const std::int64_t in_chunks = Cp / Target::i16_lanes;
    const std::int64_t panels = Op / kPanel;
    const std::int64_t in_row = g.staged_in_w * Cp, out_row = g.staged_out_w * Op;
    const int quads = static_cast<int>(Cp / 4);
    const std::pair<std::int32_t, std::int32_t> code_range = data_code_range();
    const std::int32_t lo = code_range.first, hi = code_range.second;
    const bool relu = options_.relu;
    const float* bias = bias_.data();
    const float* multipliers = multipliers_.data();
    const std::int8_t* packed = packed_.data();
    const std::int32_t* init = init_.data();
    const float* dequant = dequant_.data();
    const V out_mult = Target::broadcast(output_multiplier);

    detail::run_tiled(
        g, threads, fuse_, detail::split_tiles_for(g, 1), input, options_.input_layout, output,
        options_.output_layout, staged_in, staged_out, in_chunks, panels, kPanel / kLanes,
        [&](std::int64_t t, std::int64_t c, const std::int8_t* window) {
          const std::int8_t* src = window + c * Target::i16_lanes;
          std::int8_t* dst = codes + t * T * Cp + c * Target::i16_lanes;
          kernels::InputTransform<algorithm_2d, kernels::I16Ops<Target>>::apply(
              [&](int a, int b) { return Target::load_s8(src + a * in_row + b * Cp); },
              [&](int q, V16 v) { Target::store_q8(dst + q * Cp, v, multipliers[q], lo, hi); });
        },
        [&](std::int64_t p, std::int64_t q0, std::int64_t q1, std::int64_t begin,
            std::int64_t end) {
          for (std::int64_t q = q0; q < q1; ++q) {
            const std::int64_t column = q * Op + p * kPanel;
            kernels::q8_gemm<Target>(
                static_cast<int>(end - begin), quads, codes + begin * T * Cp + q * Cp, T * Cp,
                packed + panel_index(q, p) * Cp * kPanel, init + column, dequant + column,
                products + detail::product_offset(g, kPanel, begin, q, p * kPanel), T * kPanel);
          }
        },
        [&](std::int64_t t, std::int64_t c, Out* tile) {
          const float* src = products + detail::product_offset(g, kPanel, t, 0, c * kLanes);
          Out* dst = tile + c * kLanes;
          const V b = Target::load(bias + c * kLanes);
          Output::apply([&](int q) { return Target::load(src + q * kPanel); },
                        [&](int i, int j, V v) {
                          v = Target::add(v, b);
                          if (relu) v = Target::max(v, Target::zero());
                          if constexpr (std::is_same_v<Out, float>) {
                            Target::store(dst + i * out_row + j * Op, v);
                          } else {
                            Target::store_f32_as_s8(dst + i * out_row + j * Op,
                                                    Target::mul(v, out_mult));
                          }
                        });
        });
  }

  Conv2dShape shape_;
  ConvOptions options_;
  QuantizationParams params_;
  detail::TileGeometry geometry_;
  std::vector<float> data_scales_, multipliers_, weight_scales_;
  bool fuse_ = false;  ///< run_tiled fuses (fixed at plan time: the weight order depends on it)
  /// Weight codes: [panel_index(q, panel)][Cp / 4][kPanel][4].
  AlignedBuffer<std::int8_t> packed_;
  AlignedBuffer<std::int32_t> init_;     ///< [T][Op] GEMM start values
  AlignedBuffer<float> dequant_;         ///< [T][Op] data scale * weight scale
  AlignedBuffer<float> bias_;
};

}  // namespace sfc
