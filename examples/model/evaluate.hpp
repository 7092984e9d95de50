#pragma once
/// \file
/// Running a Network over a labelled image set in batches: top-1 accuracy,
/// the logits of every image and the time spent, plus the comparison with
/// reference logits.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "idx.hpp"
#include "network.hpp"
#include "reference.hpp"

namespace sfc::examples {

/// Outcome of evaluate().
struct Evaluation {
  std::int64_t images = 0;
  std::int64_t correct = 0;  ///< argmax of the logits == label
  int classes = 0;
  std::vector<float> logits;  ///< images x classes
  double seconds = 0;         ///< in Network::forward

  double top1() const {
    return images ? static_cast<double>(correct) / static_cast<double>(images) : 0;
  }
  std::span<const float> row(std::int64_t i) const {
    return std::span<const float>(logits).subspan(static_cast<std::size_t>(i * classes),
                                                  static_cast<std::size_t>(classes));
  }
};

/// Throws std::invalid_argument unless the images fit the model's input
/// (one channel of the same height and width) and every label is a class.
inline void check_data_fits(const Model& model, const LabeledImages& data) {
  if (model.input.channels != 1 || model.input.height != data.images.rows ||
      model.input.width != data.images.cols) {
    throw std::invalid_argument("model '" + model.name + "' takes input " +
                                model.input.to_string() + " but the images are 1x" +
                                std::to_string(data.images.rows) + "x" +
                                std::to_string(data.images.cols));
  }
  for (std::size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels[i] >= model.classes) {
      throw std::invalid_argument("label " + std::to_string(data.labels[i]) + " of image " +
                                  std::to_string(i) + " is not one of the model's " +
                                  std::to_string(model.classes) + " classes");
    }
  }
}

/// Classifies images 0 .. count - 1 of `data` in batches of `batch_size`.
inline Evaluation evaluate(Network& net, const LabeledImages& data, std::int64_t count,
                           int batch_size) {
  check_data_fits(net.model(), data);
  if (count < 0 || count > data.images.count || batch_size < 1) {
    throw std::invalid_argument("evaluate: " + std::to_string(count) + " images of " +
                                std::to_string(data.images.count) + " in batches of " +
                                std::to_string(batch_size));
  }
  Evaluation e;
  e.images = count;
  e.classes = net.classes();
  e.logits.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(e.classes));
  std::vector<float> input(static_cast<std::size_t>(batch_size) *
                           static_cast<std::size_t>(net.input_elements()));
  for (std::int64_t first = 0; first < count; first += batch_size) {
    const auto n = static_cast<int>(std::min<std::int64_t>(batch_size, count - first));
    const std::span<float> x = std::span<float>(input).first(
        static_cast<std::size_t>(n) * static_cast<std::size_t>(net.input_elements()));
    normalize_images(data.images, first, n, x);
    const std::span<float> out = std::span<float>(e.logits).subspan(
        static_cast<std::size_t>(first * e.classes), static_cast<std::size_t>(n * e.classes));
    const auto start = std::chrono::steady_clock::now();
    net.forward(x, n, out);
    e.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  for (std::int64_t i = 0; i < count; ++i)
    if (argmax(e.row(i)) == data.labels[static_cast<std::size_t>(i)]) ++e.correct;
  return e;
}

/// Largest |logit - reference| over the first min(e.images, ref.rows())
/// images (0 when there are none; NaN if a logit is NaN).
inline double max_abs_diff(const Evaluation& e, const ReferenceLogits& ref) {
  if (e.classes != ref.classes) throw std::invalid_argument("max_abs_diff: class counts differ");
  const std::int64_t rows = std::min<std::int64_t>(e.images, static_cast<std::int64_t>(ref.rows()));
  double worst = 0;
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::span<const float> a = e.row(i), b = ref.row(static_cast<std::size_t>(i));
    for (std::size_t c = 0; c < a.size(); ++c) {
      const double d = std::abs(static_cast<double>(a[c]) - static_cast<double>(b[c]));
      if (std::isnan(d)) return d;  // never hidden by max()
      worst = std::max(worst, d);
    }
  }
  return worst;
}

}  // namespace sfc::examples
