#pragma once
/// \file
/// int8 backends for a Network, and their post-training calibration.
///
///     Calibration cal = calibrate(model, images_of(calibration_indices));
///     Network direct(model, direct_int8_backend(cal));
///     Network sfc(model, quantized_backend<sfc::SFC<6, 7, 3>, sfc::SFC<6, 6, 5>,
///                                          sfc::SFC<6, 4, 7>>(cal, {.bits = 8, .finetune = true}));
///
/// Every conv layer quantizes its float input to int8 with one scale per
/// tensor (from the calibration maximum of |x|); the other ops stay float.
/// - direct int8: weights int8 with one scale per output channel (max-abs),
///   int32 sums, dequantized per output channel. The sums are computed by
///   sfc::Conv2d<std::int8_t, SFC> in its exact mode, which is bit-identical
///   to direct int8 convolution (the library's tests prove it), so this is
///   the standard int8 baseline at SFC's speed.
/// - frequency-wise (sfc::QuantizedConv2d): transformed data with one scale
///   per transform slot (calibration maximum of the transformed int8 inputs),
///   transformed weights with one scale per (slot, output channel), both at
///   `bits`; optionally fine-tuned to power-of-two scales on the layer's
///   output error (sfc/quantization/finetune.hpp). The algorithm is the
///   first of the backend's list whose kernel size matches the layer.
///
/// Calibration runs the float model (direct convolution) on the calibration
/// images and keeps every conv layer's inputs.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "backends.hpp"
#include "network.hpp"
#include "sfc/layers/conv2d_int8.hpp"
#include "sfc/layers/conv2d_quantized.hpp"
#include "sfc/quantization/calibration.hpp"
#include "sfc/quantization/finetune.hpp"

namespace sfc::examples {

/// The float inputs of every conv layer on the calibration images.
struct Calibration {
  struct Layer {
    std::vector<float> inputs;  ///< images x Cin x H x W
    int images = 0;
    float max_abs = 0;  ///< of the inputs
  };
  std::map<std::string, Layer> layers;  ///< by conv op name

  const Layer& at(const ConvLayer& layer) const {
    const auto it = layers.find(layer.name);
    if (it == layers.end()) throw std::invalid_argument("no calibration data for conv op " + layer.name);
    return it->second;
  }
};

/// Runs the float model (direct convolution) on `images` (count x C x H x W,
/// normalized) and records every conv layer's inputs.
inline Calibration calibrate(const std::shared_ptr<const Model>& model, std::span<const float> images, int count,
                             int threads = 0) {
  Network net(model, direct_float_backend(threads));
  Calibration cal;
  const auto per_image = static_cast<std::size_t>(net.input_elements());
  if (count < 1 || images.size() < per_image * static_cast<std::size_t>(count)) {
    throw std::invalid_argument("calibrate: need " + std::to_string(count) + " images");
  }
  net.set_observer([&](const ConvLayer& layer, std::span<const float> input, int batch) {
    Calibration::Layer& l = cal.layers[layer.name];
    l.inputs.insert(l.inputs.end(), input.begin(), input.end());
    l.images += batch;
    for (const float v : input) l.max_abs = std::max(l.max_abs, std::abs(v));
  });
  std::vector<float> logits;
  constexpr int kBatch = 32;
  for (int first = 0; first < count; first += kBatch) {
    const int batch = std::min(kBatch, count - first);
    logits.resize(static_cast<std::size_t>(batch * net.classes()));
    net.forward(images.subspan(per_image * static_cast<std::size_t>(first), per_image * static_cast<std::size_t>(batch)),
                batch, logits);
  }
  return cal;
}

namespace detail {

/// One operator per batch size seen (the most recent few).
template <class Operator>
class PlanCache {
 public:
  template <class Make>
  const Operator& get(int batch, Make&& make) {
    for (const auto& [b, op] : plans_)
      if (b == batch) return *op;
    if (plans_.size() == 4) plans_.erase(plans_.begin());
    plans_.emplace_back(batch, make(batch));
    return *plans_.back().second;
  }

 private:
  std::vector<std::pair<int, std::unique_ptr<Operator>>> plans_;
};

}  // namespace detail

/// Standard int8 post-training quantization: per-tensor activations,
/// per-output-channel weights, exact int32 sums (see the file comment).
template <class Exact>
class DirectInt8Backend final : public ConvBackend {
 public:
  using Operator = sfc::Conv2d<std::int8_t, Exact>;

  DirectInt8Backend(const ConvLayer& layer, const Calibration& cal, int threads)
      : layer_(layer), threads_(detail::resolve_threads(threads)),
        input_scale_(sfc::quant::symmetric_scale(cal.at(layer).max_abs, 8)) {
    const std::int64_t per_out = std::int64_t{layer.in_channels} * layer.kernel * layer.kernel;
    weights_.resize(layer.weight.size());
    for (int o = 0; o < layer.out_channels; ++o) {
      const auto w = layer.weight.subspan(static_cast<std::size_t>(o * per_out), static_cast<std::size_t>(per_out));
      float m = 0;
      for (const float v : w) m = std::max(m, std::abs(v));
      const float s = sfc::quant::symmetric_scale(m, 8);
      sfc::quant::quantize(w, s, std::span(weights_).subspan(static_cast<std::size_t>(o * per_out), w.size()));
      dequant_.push_back(input_scale_ * s);
    }
    plan(1);
  }

  std::string name() const override { return "direct_int8"; }

  void run(std::span<const float> input, std::span<float> output, int batch) override {
    detail::check_run(layer_, "DirectInt8Backend", input, output, batch);
    codes_.resize(input.size());
    sfc::quant::quantize(input, input_scale_, codes_);
    sums_.resize(output.size());
    plan(batch).run(codes_, sums_, sfc::RunOptions{.threads = threads_});
    const std::size_t plane = static_cast<std::size_t>(layer_.height) * static_cast<std::size_t>(layer_.width);
    for (std::size_t i = 0; i < output.size(); ++i) {
      const auto o = i / plane % static_cast<std::size_t>(layer_.out_channels);
      const float y = static_cast<float>(sums_[i]) * dequant_[o] + layer_.bias[o];
      output[i] = layer_.relu ? std::max(y, 0.0f) : y;
    }
  }

 private:
  const Operator& plan(int batch) {
    return plans_.get(batch, [&](int b) {
      return std::make_unique<Operator>(layer_.shape(b), weights_, std::span<const std::int32_t>{});
    });
  }

  ConvLayer layer_;
  int threads_;
  float input_scale_;
  std::vector<std::int8_t> weights_, codes_;
  std::vector<std::int32_t> sums_;
  std::vector<float> dequant_;
  detail::PlanCache<Operator> plans_;
};

/// Options of the frequency-wise quantized backends.
struct QuantizedOptions {
  int bits = 8;           ///< transformed data and weights, 4 to 8
  bool finetune = false;  ///< power-of-two scales fine-tuned on the layer output
  int finetune_images = 8;
  int finetune_iterations = 200;
  int threads = 0;
};

/// Frequency-wise quantization through sfc::QuantizedConv2d<Alg>.
template <class Alg>
class QuantizedBackend final : public ConvBackend {
 public:
  using Operator = sfc::QuantizedConv2d<Alg>;

  QuantizedBackend(const ConvLayer& layer, const Calibration& cal, const QuantizedOptions& options)
      : layer_(layer), threads_(detail::resolve_threads(options.threads)) {
    const Calibration::Layer& data = cal.at(layer);
    params_.input_scale = sfc::quant::symmetric_scale(data.max_abs, 8);
    params_.data_bits = params_.weight_bits = options.bits;
    params_.weight_granularity = sfc::WeightGranularity::slot_channel;
    // Per-slot ranges of the transformed int8 calibration inputs.
    std::vector<std::int8_t> codes(data.inputs.size());
    sfc::quant::quantize(data.inputs, params_.input_scale, codes);
    sfc::quant::SlotStatistics stats(Operator::T);
    sfc::quant::observe<Alg>(layer.shape(data.images), codes, stats);
    params_.data_scales = sfc::quant::data_scales(stats, params_.input_scale, {.bits = options.bits});
    if (options.finetune) {
      const int n = std::min(options.finetune_images, data.images);
      const auto samples = std::span(data.inputs).first(static_cast<std::size_t>(layer.input_elements(n)));
      const auto r = sfc::quant::finetune_power_of_two<Alg>(
          layer.shape(n), samples, layer.weight, params_,
          {.iterations = options.finetune_iterations, .threads = options.threads});
      params_ = r.params;
      finetune_mse_ = {r.initial_mse, r.final_mse};
    }
    plan(1);
  }

  std::string name() const override { return Alg::name(); }
  /// Output MSE on the fine-tuning samples before and after (0, 0 without).
  std::pair<double, double> finetune_mse() const { return finetune_mse_; }

  void run(std::span<const float> input, std::span<float> output, int batch) override {
    detail::check_run(layer_, "QuantizedBackend", input, output, batch);
    codes_.resize(input.size());
    sfc::quant::quantize(input, params_.input_scale, codes_);
    plan(batch).run(codes_, output, sfc::RunOptions{.threads = threads_});
  }

 private:
  const Operator& plan(int batch) {
    return plans_.get(batch, [&](int b) {
      return std::make_unique<Operator>(layer_.shape(b), layer_.weight, layer_.bias, params_,
                                        sfc::ConvOptions{.relu = layer_.relu});
    });
  }

  ConvLayer layer_;
  int threads_;
  sfc::QuantizationParams params_;
  std::pair<double, double> finetune_mse_{0, 0};
  std::vector<std::int8_t> codes_;
  detail::PlanCache<Operator> plans_;
};

/// Direct int8 for every layer; `Exact...` are the exact SFC algorithms that
/// compute the sums, one per kernel size (the first whose kernel matches).
template <class... Exact>
ConvBackendFactory direct_int8_backend(const Calibration& cal, int threads = 0) {
  return [&cal, threads](const ConvLayer& layer) -> std::unique_ptr<ConvBackend> {
    std::unique_ptr<ConvBackend> backend;
    ((!backend && layer.kernel == algorithm_2d_t<Exact>::R
          ? (backend = std::make_unique<DirectInt8Backend<Exact>>(layer, cal, threads), 0)
          : 0),
     ...);
    if (!backend) throw std::invalid_argument("direct_int8: no exact algorithm for kernel " + std::to_string(layer.kernel));
    return backend;
  };
}

/// Frequency-wise int8 for every layer with the first of `Algs` whose
/// kernel size matches.
template <class... Algs>
ConvBackendFactory quantized_backend(const Calibration& cal, const QuantizedOptions& options) {
  return [&cal, options](const ConvLayer& layer) -> std::unique_ptr<ConvBackend> {
    std::unique_ptr<ConvBackend> backend;
    ((!backend && layer.kernel == algorithm_2d_t<Algs>::R
          ? (backend = std::make_unique<QuantizedBackend<Algs>>(layer, cal, options), 0)
          : 0),
     ...);
    if (!backend) throw std::invalid_argument("quantized: no algorithm for kernel " + std::to_string(layer.kernel));
    return backend;
  };
}

}  // namespace sfc::examples
