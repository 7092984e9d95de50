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
///   `bits`; optionally fine-tuned on the layer's output error, as powers
///   of two or free (sfc/quantization/finetune.hpp). The algorithm is the
///   first of the backend's list whose kernel size matches the layer.
///
/// Calibration runs the float model (direct convolution) on the calibration
/// images and keeps every conv layer's inputs.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
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
  std::shared_ptr<const Model> model;   ///< the calibrated model
  std::vector<float> images;            ///< the calibration images, normalized
  int count = 0;                        ///< of them

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
  cal.model = model;
  const auto per_image = static_cast<std::size_t>(net.input_elements());
  if (count < 1 || images.size() < per_image * static_cast<std::size_t>(count)) {
    throw std::invalid_argument("calibrate: need " + std::to_string(count) + " images");
  }
  cal.images.assign(images.begin(), images.begin() + static_cast<std::ptrdiff_t>(per_image * static_cast<std::size_t>(count)));
  cal.count = count;
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
  bool finetune = false;  ///< scales fine-tuned on the layer output
  int finetune_images = 16;    ///< calibration images tuned on
  /// The next calibration images after those, which choose the returned
  /// scales (FinetuneOptions::holdout; 0: the tuned images choose).
  int finetune_holdout = 48;
  int finetune_iterations = 200;
  bool power_of_two = true;  ///< power-of-two fine-tuned scales (else any)
  /// Fine-tune the layers in op order, each on the inputs that the already
  /// quantized layers before it produce, against the float model's output
  /// of that layer (without: each layer on the float model's inputs).
  bool sequential = false;
  /// After fine-tuning, subtract the mean output error per output channel
  /// (on the fine-tuning images) from the bias.
  bool bias_correction = false;
  int threads = 0;
};

/// What calibration decides for one frequency-wise layer.
struct QuantizedLayer {
  sfc::QuantizationParams params;
  std::vector<float> bias;  ///< the layer's, or bias-corrected
  /// Output MSE on the fine-tuning images before and after (0, 0 without).
  std::pair<double, double> finetune_mse{0, 0};
};

/// Scales for `layer` through Alg: per-slot max-abs of its transformed int8
/// calibration inputs, then, with options.finetune, scales (powers of two
/// if options.power_of_two) fine-tuned on the first options.finetune_images
/// calibration images, the next options.finetune_holdout choosing the
/// iterate (FinetuneOptions::holdout):
/// on `inputs` (what the quantized layers before it produce on them) when
/// given, else on the float model's inputs; the target is always the float
/// layer on the float model's inputs.
template <class Alg>
QuantizedLayer calibrate_layer(const ConvLayer& layer, const Calibration& cal, const QuantizedOptions& options,
                               std::span<const float> inputs = {}) {
  const Calibration::Layer& data = cal.at(layer);
  QuantizedLayer q;
  q.bias.assign(layer.bias.begin(), layer.bias.end());
  sfc::QuantizationParams& p = q.params;
  p.input_scale = sfc::quant::symmetric_scale(data.max_abs, 8);
  p.data_bits = p.weight_bits = options.bits;
  p.weight_granularity = sfc::WeightGranularity::slot_channel;
  // Per-slot ranges of the transformed int8 calibration inputs.
  std::vector<std::int8_t> codes(data.inputs.size());
  sfc::quant::quantize(data.inputs, p.input_scale, codes);
  sfc::quant::SlotStatistics stats(algorithm_2d_t<Alg>::T);
  sfc::quant::observe<Alg>(layer.shape(data.images), codes, stats);
  p.data_scales = sfc::quant::data_scales(stats, p.input_scale, {.bits = options.bits});
  if (!options.finetune) return q;
  const int n = std::min(options.finetune_images + options.finetune_holdout, data.images);
  const int holdout = std::min(options.finetune_holdout, n - 1);
  const auto count = static_cast<std::size_t>(layer.input_elements(n));
  const auto reference = std::span(data.inputs).first(count);
  if (!inputs.empty() && inputs.size() < count) {
    throw std::invalid_argument("calibrate_layer: " + layer.name + ": " + std::to_string(inputs.size()) +
                                " inputs, need " + std::to_string(count));
  }
  const auto r = sfc::quant::finetune_scales<Alg>(
      layer.shape(n), inputs.empty() ? reference : inputs.first(count), layer.weight, p,
      {.iterations = options.finetune_iterations,
       .power_of_two = options.power_of_two,
       .threads = options.threads,
       .target_input = inputs.empty() ? std::span<const float>{} : reference,
       .holdout = holdout});
  p = r.params;
  q.finetune_mse = {r.initial_mse, r.final_mse};
  if (options.bias_correction)
    for (std::size_t o = 0; o < q.bias.size(); ++o) q.bias[o] -= r.mean_error[o];
  return q;
}

/// Frequency-wise quantization through sfc::QuantizedConv2d<Alg>.
template <class Alg>
class QuantizedBackend final : public ConvBackend {
 public:
  using Operator = sfc::QuantizedConv2d<Alg>;

  /// With the scales and bias `q` (from calibrate_layer).
  QuantizedBackend(const ConvLayer& layer, QuantizedLayer q, int threads)
      : layer_(layer), threads_(detail::resolve_threads(threads)), q_(std::move(q)) {
    if (q_.bias.size() != layer.bias.size())
      throw std::invalid_argument("QuantizedBackend: " + layer.name + ": bias size mismatch");
    layer_.bias = q_.bias;
    plan(1);
  }
  /// Calibrated on the float model's inputs (calibrate_layer).
  QuantizedBackend(const ConvLayer& layer, const Calibration& cal, const QuantizedOptions& options)
      : QuantizedBackend(layer, calibrate_layer<Alg>(layer, cal, options), options.threads) {}

  std::string name() const override { return Alg::name(); }
  /// Output MSE on the fine-tuning samples before and after (0, 0 without).
  std::pair<double, double> finetune_mse() const { return q_.finetune_mse; }
  const QuantizedLayer& quantized() const { return q_; }

  void run(std::span<const float> input, std::span<float> output, int batch) override {
    detail::check_run(layer_, "QuantizedBackend", input, output, batch);
    codes_.resize(input.size());
    sfc::quant::quantize(input, q_.params.input_scale, codes_);
    plan(batch).run(codes_, output, sfc::RunOptions{.threads = threads_});
  }

 private:
  const Operator& plan(int batch) {
    return plans_.get(batch, [&](int b) {
      return std::make_unique<Operator>(layer_.shape(b), layer_.weight, layer_.bias, q_.params,
                                        sfc::ConvOptions{.relu = layer_.relu});
    });
  }

  ConvLayer layer_;  ///< its bias views q_.bias
  int threads_;
  QuantizedLayer q_;
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

namespace detail {

/// Calls `f(tag)` with std::type_identity<Alg> for the first of `Algs`
/// whose kernel size is `kernel`; false when none matches.
template <class... Algs, class F>
bool with_algorithm(int kernel, F&& f) {
  return ((kernel == algorithm_2d_t<Algs>::R ? (f(std::type_identity<Algs>{}), true) : false) || ...);
}

}  // namespace detail

/// The inputs of `layer` on the first options.finetune_images +
/// options.finetune_holdout calibration images when the layers in `made`
/// run quantized (through the first of `Algs` with their kernel size) and
/// the others in float.
template <class... Algs>
std::vector<float> quantized_inputs(const Calibration& cal, const ConvLayer& layer,
                                    const std::map<std::string, QuantizedLayer>& made, const QuantizedOptions& options) {
  if (!cal.model || cal.count < 1) throw std::invalid_argument("quantized_inputs: the calibration has no images");
  const ConvBackendFactory float_layers = direct_float_backend(options.threads);
  Network net(cal.model, [&](const ConvLayer& l) -> std::unique_ptr<ConvBackend> {
    const auto it = made.find(l.name);
    if (it == made.end()) return float_layers(l);
    std::unique_ptr<ConvBackend> b;
    detail::with_algorithm<Algs...>(l.kernel, [&](auto tag) {
      b = std::make_unique<QuantizedBackend<typename decltype(tag)::type>>(l, it->second, options.threads);
    });
    return b;
  });
  const int n = std::min(options.finetune_images + options.finetune_holdout, cal.count);
  std::vector<float> inputs;
  net.set_observer([&](const ConvLayer& l, std::span<const float> input, int) {
    if (l.name == layer.name) inputs.assign(input.begin(), input.end());
  });
  net.forward(std::span(cal.images).first(static_cast<std::size_t>(n * net.input_elements())), n);
  return inputs;
}

/// Frequency-wise int8 for every layer with the first of `Algs` whose
/// kernel size matches. With options.sequential (and options.finetune),
/// the layers are fine-tuned in op order: the inputs of layer k on the
/// fine-tuning images come from a network whose layers before k are the
/// quantized ones already made (the others float); see calibrate_layer.
/// Layers are calibrated once per factory and reused by later networks.
template <class... Algs>
ConvBackendFactory quantized_backend(const Calibration& cal, const QuantizedOptions& options) {
  const bool sequential = options.sequential && options.finetune;
  auto made = std::make_shared<std::map<std::string, QuantizedLayer>>();
  return [&cal, options, sequential, made](const ConvLayer& layer) -> std::unique_ptr<ConvBackend> {
    std::unique_ptr<ConvBackend> backend;
    const bool found = detail::with_algorithm<Algs...>(layer.kernel, [&](auto tag) {
      using Alg = typename decltype(tag)::type;
      auto it = made->find(layer.name);
      if (it == made->end()) {
        std::vector<float> inputs;
        if (sequential) inputs = quantized_inputs<Algs...>(cal, layer, *made, options);
        it = made->emplace(layer.name, calibrate_layer<Alg>(layer, cal, options, inputs)).first;
      }
      backend = std::make_unique<QuantizedBackend<Alg>>(layer, it->second, options.threads);
    });
    if (!found) throw std::invalid_argument("quantized: no algorithm for kernel " + std::to_string(layer.kernel));
    return backend;
  };
}

}  // namespace sfc::examples
