#pragma once
/// \file
/// Post-training calibration of `sfc::QuantizedConv2d`: statistics of the
/// transformed activations, and the scales they give.
///
///   // 1. the layer's int8 input scale, from calibration inputs (float)
///   float input_scale = sfc::quant::symmetric_scale(max_abs_of_inputs, 8);
///   // 2. per-slot statistics of the transformed int8 inputs
///   sfc::quant::SlotStatistics stats(T);
///   for (batch : calibration batches) {
///     sfc::quant::quantize(batch, input_scale, codes);
///     sfc::quant::observe<Alg>(shape, codes, stats);
///   }
///   // 3. scales (per slot or per tensor; max-abs or a percentile of |v|)
///   params.data_scales = sfc::quant::data_scales(stats, input_scale, {.bits = 8});
///
/// The transformed values of int8 data are integers (SFC's and Winograd's
/// data transforms are integer), so the statistics are exact: a histogram of
/// |v| per slot gives exact percentiles. Fine-tuning the scales to powers of
/// two is in sfc/quantization/finetune.hpp.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "sfc/core/buffers.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/kernels/tile_transform.hpp"
#include "sfc/layers/conv2d.hpp"
#include "sfc/layers/conv2d_quantized.hpp"
#include "sfc/layers/tiling.hpp"

namespace sfc::quant {

/// Largest code of a signed b-bit integer: 2^(b-1) - 1.
constexpr std::int32_t max_code(int bits) noexcept { return (std::int32_t{1} << (bits - 1)) - 1; }

/// The scale that maps [-max_abs, max_abs] onto the signed b-bit codes
/// without clipping: max_abs / (2^(b-1) - 1). A zero range gives 1 (any
/// positive scale represents all-zero data exactly). Throws where that
/// scale is not a normal float (sfc::detail::usable_scale).
inline float symmetric_scale(double max_abs, int bits) {
  constexpr const char* who = "sfc::quant::symmetric_scale";
  if (bits < 2 || bits > 16) throw Error(std::string(who) + ": bits must be in [2, 16]");
  if (!std::isfinite(max_abs) || max_abs < 0) {
    throw Error(std::string(who) + ": max_abs must be finite and >= 0 (got " +
                sfc::detail::format_g(max_abs) + ")");
  }
  if (max_abs == 0) return 1.0f;
  const auto s = static_cast<float>(max_abs / max_code(bits));
  if (!sfc::detail::usable_scale(s)) {
    throw Error(std::string(who) + ": max_abs " + sfc::detail::format_g(max_abs) +
                " gives the scale " + sfc::detail::format_g(max_abs / max_code(bits)) +
                ", which is not a normal float");
  }
  return s;
}

/// int8 codes of float values: clamp(round_half_even(x / scale), -128, 127).
/// Throws on a non-finite input or a scale that is not a finite, positive,
/// normal float.
inline void quantize(std::span<const float> x, float scale, std::span<std::int8_t> codes) {
  constexpr const char* who = "sfc::quant::quantize";
  sfc::detail::check_scale(who, "scale", scale);
  if (codes.size() < x.size()) {
    throw Error(std::string(who) + ": codes hold " + std::to_string(codes.size()) + " values, need " +
                std::to_string(x.size()));
  }
  sfc::detail::check_finite(who, "input", x);
  const float inv = 1.0f / scale;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float v = std::nearbyint(x[i] * inv);  // the default rounding mode: to nearest, ties to even
    codes[i] = static_cast<std::int8_t>(std::clamp(v, -128.0f, 127.0f));
  }
}

/// Statistics of one layer's transformed input data, per transform slot:
/// minimum, maximum and an exact histogram of |v| (the values are integers,
/// in units of the layer's input scale).
class SlotStatistics {
 public:
  explicit SlotStatistics(int slots) : min_(check_slots(slots), 0), max_(min_.size(), 0), hist_(min_.size()) {}

  int slots() const noexcept { return static_cast<int>(min_.size()); }
  /// Values seen per slot (the same for every slot).
  std::int64_t count() const noexcept { return count_; }
  std::int32_t min(int q) const { return min_.at(static_cast<std::size_t>(q)); }
  std::int32_t max(int q) const { return max_.at(static_cast<std::size_t>(q)); }
  std::int32_t max_abs(int q) const { return std::max(-min(q), max(q)); }

  /// The smallest m such that a fraction of at least `p` (in (0, 1]) of the
  /// values of slot q has |v| <= m. percentile_abs(q, 1) == max_abs(q).
  std::int32_t percentile_abs(int q, double p) const {
    if (!(p > 0 && p <= 1)) throw Error("sfc::quant::SlotStatistics: percentile must be in (0, 1]");
    const std::vector<std::uint64_t>& h = hist_.at(static_cast<std::size_t>(q));
    if (count_ == 0) return 0;
    const auto need = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t m = 0; m < h.size(); ++m) {
      seen += h[m];
      if (seen >= need) return static_cast<std::int32_t>(m);
    }
    return max_abs(q);
  }

  /// Largest |value| add() takes: the histogram holds one counter per
  /// magnitude (8 MiB per slot at most). Transformed int8 data stay within
  /// int16 (the quantized operator requires it), far below.
  static constexpr std::int32_t kMaxAbsValue = std::int32_t{1} << 20;

  /// Records one transformed value of every slot (values[q], q < slots()),
  /// each of magnitude at most kMaxAbsValue.
  void add(std::span<const std::int32_t> values) {
    if (values.size() != min_.size()) throw Error("sfc::quant::SlotStatistics: one value per slot expected");
    for (std::size_t q = 0; q < values.size(); ++q) {
      if (values[q] < -kMaxAbsValue || values[q] > kMaxAbsValue) {
        throw Error("sfc::quant::SlotStatistics: value " + std::to_string(values[q]) + " of slot " +
                    std::to_string(q) +
                    " exceeds 2^20 in magnitude (transformed int8 data stay within int16)");
      }
    }
    for (std::size_t q = 0; q < values.size(); ++q) {
      const std::int32_t v = values[q];
      min_[q] = count_ == 0 ? v : std::min(min_[q], v);
      max_[q] = count_ == 0 ? v : std::max(max_[q], v);
      const auto m = static_cast<std::size_t>(v < 0 ? -static_cast<std::int64_t>(v) : v);
      if (m >= hist_[q].size()) hist_[q].resize(m + 1, 0);
      ++hist_[q][m];
    }
    ++count_;
  }

 private:
  static std::size_t check_slots(int slots) {
    if (slots < 1) throw Error("sfc::quant::SlotStatistics: slots must be >= 1");
    return static_cast<std::size_t>(slots);
  }

  std::vector<std::int32_t> min_, max_;
  std::vector<std::vector<std::uint64_t>> hist_;
  std::int64_t count_ = 0;
};

/// Adds the transformed tiles of `input` (int8, the shape and layout of
/// `shape`; tiles as the operators cut them, with zero padding) to `stats`,
/// which must have algorithm_2d_t<Algorithm>::T slots.
template <class Algorithm>
void observe(const Conv2dShape& shape, std::span<const std::int8_t> input, SlotStatistics& stats,
             Layout layout = Layout::NCHW) {
  using A2 = algorithm_2d_t<Algorithm>;
  constexpr const char* who = "sfc::quant::observe";
  constexpr int M = A2::M, T = A2::T;
  throw_if_error(shape.validate(), who);
  sfc::detail::check_kernel(who, shape, A2::R);
  sfc::detail::check_layout(who, "layout", layout);
  sfc::detail::check_buffer(who, "input", input, shape.input_elements());
  if (stats.slots() != T) {
    throw Error(std::string(who) + ": the statistics have " + std::to_string(stats.slots()) +
                " slots, the algorithm " + std::to_string(T));
  }
  const std::int64_t H = shape.height, W = shape.width, C = shape.in_channels;
  const std::int64_t tiles_h = sfc::detail::ceil_div(shape.output_height(), M);
  const std::int64_t tiles_w = sfc::detail::ceil_div(shape.output_width(), M);
  const auto at = [&](std::int64_t n, std::int64_t c, std::int64_t y, std::int64_t x) -> double {
    if (y < 0 || y >= H || x < 0 || x >= W) return 0;
    return input[static_cast<std::size_t>(layout == Layout::NCHW ? ((n * C + c) * H + y) * W + x
                                                                 : ((n * H + y) * W + x) * C + c)];
  };
  std::vector<std::int32_t> values(T);
  for (std::int64_t n = 0; n < shape.batch; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t ty = 0; ty < tiles_h; ++ty)
        for (std::int64_t tx = 0; tx < tiles_w; ++tx) {
          kernels::transform_data_runtime<A2>(
              [&](int a, int b) { return at(n, c, ty * M + a - shape.pad_top, tx * M + b - shape.pad_left); },
              [&](int q, double v) { values[static_cast<std::size_t>(q)] = static_cast<std::int32_t>(v); });
          stats.add(values);
        }
}

/// Which transformed data share one scale.
enum class DataGranularity {
  slot,    ///< one scale per transform slot (frequency-wise, the paper's)
  tensor,  ///< one scale for every slot
};

struct DataScaleOptions {
  int bits = 8;  ///< bits of the data codes, 4 to 8
  DataGranularity granularity = DataGranularity::slot;
  /// Range of a slot: the `percentile` of |v| (1 = the maximum, no clipping
  /// on the calibration data; e.g. 0.9999 clips the rarest outliers).
  double percentile = 1.0;
};

/// Data scales for QuantizationParams::data_scales from calibration
/// statistics (values in units of `input_scale`): range / (2^(b-1) - 1),
/// T values, or one with DataGranularity::tensor. A slot that was always
/// zero gets the scale of the largest slot.
inline std::vector<float> data_scales(const SlotStatistics& stats, float input_scale, const DataScaleOptions& options = {}) {
  constexpr const char* who = "sfc::quant::data_scales";
  sfc::detail::check_code_bits(who, "bits", options.bits);
  sfc::detail::check_scale(who, "input_scale", input_scale);
  if (stats.count() == 0) throw Error(std::string(who) + ": no calibration data was observed");
  std::vector<double> range(static_cast<std::size_t>(stats.slots()));
  double largest = 0;
  for (int q = 0; q < stats.slots(); ++q) {
    range[static_cast<std::size_t>(q)] = static_cast<double>(stats.percentile_abs(q, options.percentile)) * input_scale;
    largest = std::max(largest, range[static_cast<std::size_t>(q)]);
  }
  if (options.granularity == DataGranularity::tensor) return {symmetric_scale(largest, options.bits)};
  std::vector<float> scales;
  for (const double r : range) scales.push_back(symmetric_scale(r > 0 ? r : largest, options.bits));
  return scales;
}

/// The transformed weights of a layer in double: u[(q * Cout + o) * Cin + c]
/// for slot q, output channel o and input channel c (weights OIHW, finite).
template <class Algorithm>
std::vector<double> transformed_weights(const Conv2dShape& shape, std::span<const float> weights) {
  using A2 = algorithm_2d_t<Algorithm>;
  constexpr const char* who = "sfc::quant::transformed_weights";
  throw_if_error(shape.validate(), who);
  sfc::detail::check_kernel(who, shape, A2::R);
  sfc::detail::check_buffer(who, "weight", weights, shape.weight_elements());
  const std::int64_t Cin = shape.in_channels, Cout = shape.out_channels;
  std::vector<double> u(static_cast<std::size_t>(product_or_throw({A2::T, Cout, Cin})));
  for (std::int64_t o = 0; o < Cout; ++o)
    for (std::int64_t c = 0; c < Cin; ++c) {
      const float* tap = weights.data() + (o * Cin + c) * A2::R * A2::R;
      kernels::transform_weights<A2>([&](int a, int b) { return static_cast<double>(tap[a * A2::R + b]); },
                                     [&](int q, double v) { u[static_cast<std::size_t>((q * Cout + o) * Cin + c)] = v; });
    }
  return u;
}

/// Group of (slot q, output channel o) under a weight granularity, and the
/// number of groups (the size of QuantizationParams::weight_scales): the
/// operator's own mapping (sfc/layers/conv2d_quantized.hpp).
using sfc::weight_group;
using sfc::weight_groups;

/// Max-abs weight scales of every group (what QuantizedConv2d uses when
/// none are given), from transformed weights laid out as above.
inline std::vector<float> weight_scales(std::span<const double> u, int slots, std::int64_t out_channels,
                                        WeightGranularity granularity, int bits) {
  constexpr const char* who = "sfc::quant::weight_scales";
  sfc::detail::check_code_bits(who, "bits", bits);
  if (slots < 1 || out_channels < 1 || u.empty() ||
      u.size() % static_cast<std::size_t>(slots * out_channels) != 0) {
    throw Error(std::string(who) +
                ": the transformed weights do not match slots x out_channels x in_channels");
  }
  sfc::detail::check_granularity(who, granularity);
  sfc::detail::check_finite(who, "transformed weight", u);
  const std::int64_t groups = weight_groups(granularity, slots, out_channels);
  const auto Cin = static_cast<std::int64_t>(u.size()) / (slots * out_channels);
  std::vector<double> max_abs(static_cast<std::size_t>(groups), 0.0);
  for (int q = 0; q < slots; ++q)
    for (std::int64_t o = 0; o < out_channels; ++o) {
      double& m = max_abs[static_cast<std::size_t>(weight_group(granularity, q, o, out_channels))];
      for (std::int64_t c = 0; c < Cin; ++c) m = std::max(m, std::abs(u[static_cast<std::size_t>((q * out_channels + o) * Cin + c)]));
    }
  std::vector<float> scales;
  for (const double m : max_abs) scales.push_back(symmetric_scale(m, bits));
  return scales;
}

}  // namespace sfc::quant
