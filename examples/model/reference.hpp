#pragma once
/// \file
/// The reference logits file of a model (`<model>_reference.txt`, see
/// examples/data/FORMAT.md): logits computed by the training framework for
/// the first test images, and the float model's accuracy on the whole test
/// set. Lines starting with '#' are comments; then one line per image,
/// `<index> <label> <predicted_class> <logit0> ... <logit{K-1}>`, with
/// indices 0, 1, 2, ... in order; then optionally
/// `accuracy <correct>/<total> <fraction>` as the last line.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "error.hpp"
#include "model.hpp"

namespace sfc::examples {

/// Reference logits of test images 0 .. rows() - 1.
struct ReferenceLogits {
  int classes = 0;
  std::vector<int> labels;     ///< label of each image
  std::vector<int> predicted;  ///< argmax of the reference logits
  std::vector<float> logits;   ///< rows() x classes

  struct Accuracy {
    std::int64_t correct = 0;
    std::int64_t total = 0;
  };
  std::optional<Accuracy> accuracy;  ///< over the whole test set

  std::size_t rows() const { return labels.size(); }
  std::span<const float> row(std::size_t i) const {
    return std::span<const float>(logits).subspan(i * static_cast<std::size_t>(classes),
                                                  static_cast<std::size_t>(classes));
  }
};

/// Reads a reference file for a model with `classes` outputs. Throws
/// FileError (with the line) for anything malformed.
inline ReferenceLogits load_reference(const std::filesystem::path& path, int classes) {
  const std::string source = path.string();
  std::ifstream in(path);
  if (!in) throw FileError(source, 0, "cannot open the reference logits file");
  ReferenceLogits ref;
  ref.classes = classes;
  std::string text;
  std::int64_t line = 0;
  const auto fail = [&](const std::string& message) { throw FileError(source, line, message); };
  const auto integer = [&](std::string_view token, const char* what, std::int64_t lo,
                           std::int64_t hi) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (ec != std::errc() || end != token.data() + token.size() || v < lo || v > hi) {
      fail(std::string(what) + " '" + std::string(token) + "' is not an integer in [" +
           std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return v;
  };
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (!text.empty() && text[0] == '#') continue;
    const std::vector<std::string_view> f = detail::split_fields(text);
    if (f.empty()) continue;
    if (ref.accuracy) fail("unexpected line after the accuracy line");
    if (f[0] == "accuracy") {
      const std::size_t slash = f.size() == 3 ? f[1].find('/') : std::string_view::npos;
      if (slash == std::string_view::npos) fail("expected `accuracy <correct>/<total> <fraction>`");
      const std::int64_t total = integer(f[1].substr(slash + 1), "total", 1, std::int64_t{1} << 40);
      const std::int64_t correct = integer(f[1].substr(0, slash), "correct", 0, total);
      ref.accuracy = ReferenceLogits::Accuracy{correct, total};
      continue;
    }
    if (f.size() != static_cast<std::size_t>(classes) + 3) {
      fail("expected `<index> <label> <predicted> <logit0..logit" + std::to_string(classes - 1) +
           ">` (" + std::to_string(classes + 3) + " fields), got " + std::to_string(f.size()));
    }
    const auto expected = static_cast<std::int64_t>(ref.rows());
    integer(f[0], "image index (rows must be images 0, 1, 2, ... in order)", expected, expected);
    ref.labels.push_back(static_cast<int>(integer(f[1], "label", 0, classes - 1)));
    ref.predicted.push_back(static_cast<int>(integer(f[2], "predicted class", 0, classes - 1)));
    for (int c = 0; c < classes; ++c) {
      const std::string_view token = f[static_cast<std::size_t>(3 + c)];
      double v = 0;
      const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
      if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(v)) {
        fail("logit " + std::to_string(c) + " '" + std::string(token) + "' is not a finite number");
      }
      ref.logits.push_back(static_cast<float>(v));
    }
  }
  if (in.bad()) throw FileError(source, 0, "read error");
  if (ref.rows() == 0) throw FileError(source, 0, "no reference logits");
  return ref;
}

/// The reference file that belongs to a manifest: `<stem>_reference.txt`
/// beside it.
inline std::filesystem::path default_reference_path(const std::filesystem::path& manifest) {
  std::filesystem::path p = manifest;
  return p.replace_filename(manifest.stem().string() + "_reference.txt");
}

}  // namespace sfc::examples
