#pragma once
/// \file
/// A model's calibration images: the training images listed in
/// `<model>_calib_indices.txt` beside its manifest (one index per line),
/// and the training images that are not among them.
///
///     const LabeledImages train = load_fashion_mnist(kFashionMnistDir, Split::train);
///     const std::vector<float> x = calibration_images(manifest, train);  // normalized
///     Calibration cal = calibrate(model, x, static_cast<int>(calibration_indices(manifest, train).size()));

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "idx.hpp"

namespace sfc::examples {

/// The calibration images' indices into `train`: those listed in
/// `<model>_calib_indices.txt` beside the manifest, or 0..127 when there is
/// no such file. An index outside the training set is an error.
inline std::vector<std::int64_t> calibration_indices(const std::filesystem::path& manifest,
                                                     const LabeledImages& train) {
  std::filesystem::path list = manifest;
  list.replace_filename(manifest.stem().string() + "_calib_indices.txt");
  std::vector<std::int64_t> indices;
  if (std::FILE* f = std::fopen(list.string().c_str(), "r")) {
    long long i = 0;
    while (std::fscanf(f, "%lld", &i) == 1) indices.push_back(i);
    std::fclose(f);
  } else {
    for (std::int64_t i = 0; i < 128; ++i) indices.push_back(i);
  }
  for (const std::int64_t i : indices)
    if (i < 0 || i >= train.images.count)
      throw std::invalid_argument(list.string() + ": index " + std::to_string(i) + " is not a training image");
  return indices;
}

/// The calibration images (calibration_indices), normalized, one after the
/// other.
inline std::vector<float> calibration_images(const std::filesystem::path& manifest, const LabeledImages& train) {
  const std::vector<std::int64_t> indices = calibration_indices(manifest, train);
  const auto size = static_cast<std::size_t>(train.images.image_size());
  std::vector<float> x(indices.size() * size);
  for (std::size_t k = 0; k < indices.size(); ++k)
    normalize_images(train.images, indices[k], 1, std::span(x).subspan(k * size, size));
  return x;
}

/// The training images that are not calibration images, with their labels:
/// data for choosing quantization settings without looking at the test set.
/// (The model was trained on them, so their accuracy is higher than the test
/// set's; what they show is the drop from float.)
inline LabeledImages training_images(const std::filesystem::path& manifest, const LabeledImages& train) {
  const std::vector<std::int64_t> calib = calibration_indices(manifest, train);
  LabeledImages h;
  h.images.rows = train.images.rows;
  h.images.cols = train.images.cols;
  for (std::int64_t i = 0; i < train.images.count; ++i) {
    if (std::find(calib.begin(), calib.end(), i) != calib.end()) continue;
    const auto image = train.images.image(i);
    h.images.pixels.insert(h.images.pixels.end(), image.begin(), image.end());
    h.labels.push_back(train.labels[static_cast<std::size_t>(i)]);
  }
  h.images.count = h.images.file_count = static_cast<std::int64_t>(h.labels.size());
  return h;
}

}  // namespace sfc::examples
