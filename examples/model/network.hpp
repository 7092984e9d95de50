#pragma once
/// \file
/// Executing a Model (model.hpp) on a batch of images, with pluggable
/// convolution backends.
///
///     auto model = std::make_shared<const Model>(load_model(path));
///     Network net(model, direct_float_backend());     // or sfc_float_backend(), ...
///     net.forward(images, batch, logits);             // NCHW in, batch x classes out
///
/// Convolutions go through `ConvBackend`: the network describes each conv op
/// as a `ConvLayer` (shape, weights, bias, ReLU) and asks a
/// `ConvBackendFactory` for a backend per layer, once, at construction. A
/// backend may prepare whatever it wants from the layer (transform, pack or
/// quantize the weights, plan buffers) and then converts batches of float
/// NCHW activations. Float backends live in backends.hpp; an int8 backend
/// quantizes its input, runs in integers and returns dequantized floats
/// through the same interface. Calibration hooks in through a
/// `ConvObserver`, which sees every conv input during forward().
///
/// The other ops (add, maxpool, gap, fc) run here in plain float; gap and fc
/// accumulate in double. Activations stay NCHW float between ops. Buffers are
/// reused between values whose lifetimes do not overlap and kept between
/// calls, so forward() does not allocate once it has seen its largest batch.
/// A Network is not thread-safe: one forward() at a time (backends run their
/// own threads inside).

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model.hpp"
#include "sfc/core/conv_shape.hpp"

namespace sfc::examples {

/// A conv op as a backend sees it: stride 1, `pad` = (kernel - 1) / 2 zeros
/// on each side, so the output has the input's height and width.
struct ConvLayer {
  std::string name;  ///< op name in the manifest ("conv3")
  int in_channels = 0;
  int out_channels = 0;
  int kernel = 0;  ///< odd; kernel x kernel taps
  int pad = 0;
  int height = 0;  ///< of input and output
  int width = 0;
  bool relu = false;              ///< max(0, .) after the bias
  std::span<const float> weight;  ///< OIHW: out_channels x in_channels x kernel x kernel
  std::span<const float> bias;    ///< out_channels

  std::int64_t input_elements(int batch) const {
    return std::int64_t{batch} * in_channels * height * width;
  }
  std::int64_t output_elements(int batch) const {
    return std::int64_t{batch} * out_channels * height * width;
  }
  /// Multiply-accumulates of direct convolution (padding taps included).
  std::int64_t macs(int batch) const {
    return output_elements(batch) * in_channels * kernel * kernel;
  }
  /// The layer as the library's operators take it, for `batch` images.
  sfc::Conv2dShape shape(int batch) const {
    const std::int64_t p = pad;
    return sfc::Conv2dShape{.batch = batch,
                            .in_channels = in_channels,
                            .out_channels = out_channels,
                            .height = height,
                            .width = width,
                            .kernel_h = kernel,
                            .kernel_w = kernel,
                            .pad_top = p,
                            .pad_bottom = p,
                            .pad_left = p,
                            .pad_right = p};
  }
};

/// The ConvLayer of conv op `op` of `m` (its spans view m's tensors, empty
/// when the weights are not loaded).
inline ConvLayer conv_layer(const Model& m, const Op& op) {
  const ValueShape& in = m.values[static_cast<std::size_t>(op.inputs[0])].shape;
  return ConvLayer{.name = op.name,
                   .in_channels = op.in_channels,
                   .out_channels = op.out_channels,
                   .kernel = op.kernel,
                   .pad = op.pad,
                   .height = in.height,
                   .width = in.width,
                   .relu = op.relu,
                   .weight = m.tensors[static_cast<std::size_t>(op.weight)].data,
                   .bias = m.tensors[static_cast<std::size_t>(op.bias)].data};
}

/// How one conv layer is computed. Created for one layer by a
/// ConvBackendFactory; the ConvLayer's spans stay valid for the backend's
/// lifetime (the Network keeps the Model alive).
class ConvBackend {
 public:
  virtual ~ConvBackend() = default;

  /// A short name of the method, for reports ("direct", "sfc6_7_3").
  virtual std::string name() const = 0;

  /// input: batch x Cin x H x W, output: batch x Cout x H x W (NCHW, exactly
  /// layer.input_elements(batch) and layer.output_elements(batch) floats),
  /// bias and ReLU applied. Called by one thread at a time; any batch >= 1.
  virtual void run(std::span<const float> input, std::span<float> output, int batch) = 0;
};

/// Makes the backend of one layer (called once per conv op, in op order).
/// May throw to refuse a layer; the Network adds the op's name and line.
using ConvBackendFactory = std::function<std::unique_ptr<ConvBackend>(const ConvLayer&)>;

/// Called by forward() with the input of every conv op (batch x Cin x H x W)
/// just before the backend runs, e.g. to collect calibration statistics.
using ConvObserver =
    std::function<void(const ConvLayer& layer, std::span<const float> input, int batch)>;

/// Index of the largest value (the first one on ties).
inline int argmax(std::span<const float> values) {
  return static_cast<int>(std::max_element(values.begin(), values.end()) - values.begin());
}

/// A Model with one backend per conv op.
class Network {
 public:
  /// Builds a backend per conv op with `factory` and plans the activation
  /// buffers. Throws std::runtime_error naming the op when the factory throws.
  Network(std::shared_ptr<const Model> model, const ConvBackendFactory& factory)
      : model_(std::move(model)) {
    if (!model_) throw std::invalid_argument("Network: null model");
    const Model& m = *model_;
    conv_of_op_.assign(m.ops.size(), -1);
    for (std::size_t i = 0; i < m.ops.size(); ++i) {
      const Op& op = m.ops[i];
      if (op.kind != OpKind::conv) continue;
      layers_.push_back(conv_layer(m, op));
      const ConvLayer& layer = layers_.back();
      if (layer.weight.size() != static_cast<std::size_t>(layer.out_channels) *
                                     static_cast<std::size_t>(layer.in_channels) *
                                     static_cast<std::size_t>(layer.kernel * layer.kernel) ||
          layer.bias.size() != static_cast<std::size_t>(layer.out_channels)) {
        throw std::invalid_argument("Network: " + where(op) +
                                    ": weights are not loaded (use load_model)");
      }
      std::unique_ptr<ConvBackend> backend;
      try {
        backend = factory(layer);
      } catch (const std::exception& e) {
        throw std::runtime_error("Network: " + where(op) +
                                 ": cannot build its backend: " + e.what());
      }
      if (!backend)
        throw std::runtime_error("Network: " + where(op) + ": the factory gave no backend");
      conv_of_op_[i] = static_cast<int>(backends_.size());
      backends_.push_back(std::move(backend));
    }
    for (const Op& op : m.ops) {
      if (op.kind != OpKind::fc) continue;
      if (m.tensors[static_cast<std::size_t>(op.weight)].data.empty()) {
        throw std::invalid_argument("Network: " + where(op) +
                                    ": weights are not loaded (use load_model)");
      }
    }
    plan_buffers();
  }

  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }

  /// The conv layers in op order, and their backends.
  std::span<const ConvLayer> conv_layers() const { return layers_; }
  const ConvBackend& backend(std::size_t conv_index) const { return *backends_.at(conv_index); }

  /// Floats of one input image (C x H x W) and classes per image.
  std::int64_t input_elements() const { return model_->input.elements(); }
  int classes() const { return model_->classes; }

  /// Sees every conv input in later forward() calls; an empty function
  /// removes the observer.
  void set_observer(ConvObserver observer) { observer_ = std::move(observer); }

  /// logits (batch x classes) of `input` (batch x C x H x W, NCHW, already
  /// normalized).
  void forward(std::span<const float> input, int batch, std::span<float> logits) {
    const Model& m = *model_;
    if (batch < 1) throw std::invalid_argument("Network::forward: batch must be >= 1");
    const auto b = static_cast<std::size_t>(batch);
    if (input.size() != b * static_cast<std::size_t>(input_elements())) {
      throw std::invalid_argument("Network::forward: input has " + std::to_string(input.size()) +
                                  " floats, expected batch " + std::to_string(batch) + " x " +
                                  m.input.to_string());
    }
    if (logits.size() < b * static_cast<std::size_t>(classes())) {
      throw std::invalid_argument("Network::forward: logits buffer has " +
                                  std::to_string(logits.size()) + " floats, expected batch " +
                                  std::to_string(batch) + " x " + std::to_string(classes()));
    }
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      const std::size_t need = b * static_cast<std::size_t>(slot_capacity_[s]);
      if (slots_[s].size() < need) slots_[s].resize(need);
    }
    input_ = input;
    for (std::size_t i = 0; i < m.ops.size(); ++i) {
      const Op& op = m.ops[i];
      const std::span<float> out = writable(op.output, batch);
      switch (op.kind) {
        case OpKind::conv: {
          const ConvLayer& layer = layers_[static_cast<std::size_t>(conv_of_op_[i])];
          const std::span<const float> in = value(op.inputs[0], batch);
          if (observer_) observer_(layer, in, batch);
          backends_[static_cast<std::size_t>(conv_of_op_[i])]->run(in, out, batch);
          break;
        }
        case OpKind::add:
          add(value(op.inputs[0], batch), value(op.inputs[1], batch), op.relu, out);
          break;
        case OpKind::maxpool:
          maxpool(value(op.inputs[0], batch), shape(op.inputs[0]), batch, out);
          break;
        case OpKind::gap:
          gap(value(op.inputs[0], batch), shape(op.inputs[0]), batch, out);
          break;
        case OpKind::fc:
          fc(value(op.inputs[0], batch), op, batch, out);
          break;
      }
    }
    const std::span<const float> result = value(m.output, batch);
    std::copy(result.begin(), result.end(), logits.begin());
    input_ = {};
  }

  /// As above, returning the logits.
  std::vector<float> forward(std::span<const float> input, int batch) {
    std::vector<float> logits(static_cast<std::size_t>(batch < 1 ? 0 : batch) *
                              static_cast<std::size_t>(classes()));
    forward(input, batch, logits);
    return logits;
  }

 private:
  std::string where(const Op& op) const {
    return "op " + op.name + " (" + model_->manifest + ":" + std::to_string(op.line) + ")";
  }

  const ValueShape& shape(int v) const { return model_->values[static_cast<std::size_t>(v)].shape; }

  std::span<const float> value(int v, int batch) const {
    const auto n = static_cast<std::size_t>(batch) * static_cast<std::size_t>(shape(v).elements());
    if (v == 0) return input_.first(n);
    return std::span<const float>(
               slots_[static_cast<std::size_t>(slot_of_value_[static_cast<std::size_t>(v)])])
        .first(n);
  }

  std::span<float> writable(int v, int batch) {
    const auto n = static_cast<std::size_t>(batch) * static_cast<std::size_t>(shape(v).elements());
    return std::span<float>(
               slots_[static_cast<std::size_t>(slot_of_value_[static_cast<std::size_t>(v)])])
        .first(n);
  }

  /// Gives every op output a buffer ("slot"), reusing the slot of a value
  /// after its last reader. An op's output never shares a slot with its
  /// inputs. Capacities are per image; forward() scales them by the batch.
  void plan_buffers() {
    const Model& m = *model_;
    slot_of_value_.assign(m.values.size(), -1);
    std::vector<int> free_slots;
    const auto release = [&](int v) {
      const int s = slot_of_value_[static_cast<std::size_t>(v)];
      if (v == 0 || v == m.output || s < 0) return;
      if (std::find(free_slots.begin(), free_slots.end(), s) == free_slots.end()) {
        free_slots.push_back(s);
      }
    };
    for (std::size_t i = 0; i < m.ops.size(); ++i) {
      const Op& op = m.ops[i];
      const std::int64_t need = shape(op.output).elements();
      // Best fit: the smallest free slot that is large enough, else the
      // largest free one (grown), else a new one.
      int best = -1;
      for (const int s : free_slots) {
        const std::int64_t cap = slot_capacity_[static_cast<std::size_t>(s)];
        const std::int64_t best_cap = best < 0 ? 0 : slot_capacity_[static_cast<std::size_t>(best)];
        if (best < 0 || (cap >= need && (best_cap < need || cap < best_cap)) ||
            (cap < need && best_cap < need && cap > best_cap)) {
          best = s;
        }
      }
      if (best < 0) {
        best = static_cast<int>(slot_capacity_.size());
        slot_capacity_.push_back(0);
      } else {
        free_slots.erase(std::find(free_slots.begin(), free_slots.end(), best));
      }
      auto& cap = slot_capacity_[static_cast<std::size_t>(best)];
      cap = std::max(cap, need);
      slot_of_value_[static_cast<std::size_t>(op.output)] = best;
      for (const int v : op.inputs)
        if (m.values[static_cast<std::size_t>(v)].last_reader == static_cast<int>(i)) release(v);
      if (m.values[static_cast<std::size_t>(op.output)].last_reader < 0) release(op.output);
    }
    slots_.resize(slot_capacity_.size());
  }

  static void add(std::span<const float> a, std::span<const float> b, bool relu,
                  std::span<float> out) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const float v = a[i] + b[i];
      out[i] = relu ? std::max(v, 0.0f) : v;
    }
  }

  /// 2x2 windows, stride 2; an odd last row or column is dropped.
  static void maxpool(std::span<const float> in, const ValueShape& s, int batch,
                      std::span<float> out) {
    const std::size_t H = static_cast<std::size_t>(s.height), W = static_cast<std::size_t>(s.width);
    const std::size_t Ho = H / 2, Wo = W / 2;
    const std::size_t planes =
        static_cast<std::size_t>(batch) * static_cast<std::size_t>(s.channels);
    for (std::size_t p = 0; p < planes; ++p) {
      const float* src = in.data() + p * H * W;
      float* dst = out.data() + p * Ho * Wo;
      for (std::size_t y = 0; y < Ho; ++y)
        for (std::size_t x = 0; x < Wo; ++x) {
          const float* w = src + 2 * y * W + 2 * x;
          dst[y * Wo + x] = std::max(std::max(w[0], w[1]), std::max(w[W], w[W + 1]));
        }
    }
  }

  static void gap(std::span<const float> in, const ValueShape& s, int batch, std::span<float> out) {
    const std::size_t area = static_cast<std::size_t>(s.height) * static_cast<std::size_t>(s.width);
    const std::size_t planes =
        static_cast<std::size_t>(batch) * static_cast<std::size_t>(s.channels);
    for (std::size_t p = 0; p < planes; ++p) {
      double sum = 0;
      for (std::size_t j = 0; j < area; ++j) sum += in[p * area + j];
      out[p] = static_cast<float>(sum / static_cast<double>(area));
    }
  }

  void fc(std::span<const float> in, const Op& op, int batch, std::span<float> out) const {
    const std::vector<float>& w = model_->tensors[static_cast<std::size_t>(op.weight)].data;
    const std::vector<float>& bias = model_->tensors[static_cast<std::size_t>(op.bias)].data;
    const auto cin = static_cast<std::size_t>(op.in_channels);
    const auto cout = static_cast<std::size_t>(op.out_channels);
    for (std::size_t n = 0; n < static_cast<std::size_t>(batch); ++n)
      for (std::size_t o = 0; o < cout; ++o) {
        double sum = bias[o];
        for (std::size_t i = 0; i < cin; ++i)
          sum += static_cast<double>(w[o * cin + i]) * static_cast<double>(in[n * cin + i]);
        const auto v = static_cast<float>(sum);
        out[n * cout + o] = op.relu ? std::max(v, 0.0f) : v;
      }
  }

  std::shared_ptr<const Model> model_;
  std::vector<ConvLayer> layers_;
  std::vector<std::unique_ptr<ConvBackend>> backends_;
  std::vector<int> conv_of_op_;              ///< op index -> conv layer index, or -1
  std::vector<int> slot_of_value_;           ///< value index -> slot, -1 for the input
  std::vector<std::int64_t> slot_capacity_;  ///< floats per image
  std::vector<std::vector<float>> slots_;
  std::span<const float> input_;  ///< during forward()
  ConvObserver observer_;
};

}  // namespace sfc::examples
