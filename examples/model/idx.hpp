#pragma once
/// \file
/// Reading IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or
/// not, through zlib:
///
///     const auto test = sfc::examples::load_fashion_mnist(sfc::examples::kFashionMnistDir,
///                                                         sfc::examples::Split::test);
///
/// An IDX file is a big-endian header, magic number 0x00000803 (2051:
/// unsigned bytes, 3 dimensions) for images or 0x00000801 (2049: unsigned
/// bytes, 1 dimension) for labels, one 32-bit size per dimension, then the
/// bytes, row-major. The readers check the magic number, the sizes, that the
/// data is complete (a truncated or corrupt file is an error, never a short
/// data set) and, when reading a whole file, that nothing follows it. Every
/// problem throws FileError naming the file.
///
/// Programs that include this header link zlib (CMake: ZLIB::ZLIB).

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"

namespace sfc::examples {

/// Where the Debian package dataset-fashion-mnist installs the data.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Images of an IDX file: count x rows x cols unsigned bytes.
struct IdxImages {
  std::int64_t count = 0;       ///< images read
  std::int64_t file_count = 0;  ///< images the file declares
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> pixels;  ///< count * rows * cols, image after image, row-major

  std::int64_t image_size() const { return std::int64_t{rows} * cols; }
  std::span<const std::uint8_t> image(std::int64_t i) const {
    return std::span<const std::uint8_t>(pixels).subspan(static_cast<std::size_t>(i * image_size()),
                                                         static_cast<std::size_t>(image_size()));
  }
};

/// Labels of an IDX file.
struct IdxLabels {
  std::int64_t file_count = 0;  ///< labels the file declares
  std::vector<std::uint8_t> labels;
};

namespace detail {

/// A zlib gzFile with exact reads and error messages that carry the path
/// and the byte offset (in the uncompressed stream).
class GzReader {
 public:
  explicit GzReader(const std::filesystem::path& path) : path_(path.string()) {
    file_ = gzopen(path_.c_str(), "rb");
    if (file_ == nullptr) throw FileError(path_, 0, "cannot open");
    gzbuffer(file_, 1 << 17);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  ~GzReader() { gzclose(file_); }

  const std::string& path() const { return path_; }
  std::int64_t offset() const { return offset_; }

  /// Reads exactly `n` bytes of `what`; throws if the file ends first or is
  /// corrupt.
  void read(void* out, std::int64_t n, const std::string& what) {
    auto* dst = static_cast<unsigned char*>(out);
    std::int64_t done = 0;
    while (done < n) {
      const auto chunk = static_cast<unsigned>(std::min<std::int64_t>(n - done, INT_MAX / 2));
      const int got = gzread(file_, dst + done, chunk);
      if (got < 0) fail_stream(what);
      if (got == 0) {
        int code = Z_OK;
        const char* message = gzerror(file_, &code);
        throw FileError(path_, 0,
                        "truncated: " + what + " needs " + std::to_string(n) + " bytes from byte " +
                            std::to_string(offset_) + ", but the data ends after " +
                            std::to_string(done) +
                            (code != Z_OK ? std::string(" (zlib: ") + message + ")" : ""));
      }
      done += got;
    }
    offset_ += n;
  }

  /// True if at least one byte follows. At the end, also checks that the
  /// compressed stream is complete (a gzip file cut right after the data
  /// still lacks its trailer).
  bool more() {
    unsigned char byte = 0;
    const int got = gzread(file_, &byte, 1);
    if (got < 0) fail_stream("the end of the data");
    if (got == 0) {
      int code = Z_OK;
      const char* message = gzerror(file_, &code);
      if (code != Z_OK) {
        throw FileError(
            path_, 0,
            "truncated: the compressed stream ends early (zlib: " + std::string(message) + ")");
      }
    }
    return got > 0;
  }

  /// A big-endian 32-bit field.
  std::uint32_t u32(const std::string& what) {
    unsigned char b[4];
    read(b, 4, what);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
  }

 private:
  [[noreturn]] void fail_stream(const std::string& what) {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    throw FileError(path_, 0,
                    "truncated or corrupt compressed data while reading " + what + " at byte " +
                        std::to_string(offset_) + " (zlib: " + message + ")");
  }

  std::string path_;
  gzFile file_ = nullptr;
  std::int64_t offset_ = 0;
};

inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // 2051
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // 2049

inline void check_magic(const GzReader& in, std::uint32_t magic, std::uint32_t expected) {
  if (magic == expected) return;
  const auto describe = [](std::uint32_t m) {
    if (m == kIdxImagesMagic) return std::string(" (IDX images)");
    if (m == kIdxLabelsMagic) return std::string(" (IDX labels)");
    return std::string();
  };
  throw FileError(in.path(), 0,
                  "magic number " + std::to_string(magic) + describe(magic) + ", expected " +
                      std::to_string(expected) + describe(expected) + " (unsigned bytes, " +
                      std::to_string(expected & 0xff) + " dimension" +
                      ((expected & 0xff) == 1 ? "" : "s") + ")");
}

/// Images or labels to read: all, or the first `limit`.
inline std::int64_t items_to_read(const GzReader& in, std::int64_t declared,
                                  const std::optional<std::int64_t>& limit) {
  if (limit && *limit < 0) {
    throw std::invalid_argument("IDX reader: negative limit " + std::to_string(*limit) + " for " +
                                in.path());
  }
  return limit ? std::min(declared, *limit) : declared;
}

}  // namespace detail

/// Reads an IDX image file (magic 2051), all images or the first `limit`.
inline IdxImages read_idx_images(const std::filesystem::path& path,
                                 std::optional<std::int64_t> limit = std::nullopt) {
  detail::GzReader in(path);
  detail::check_magic(in, in.u32("the magic number"), detail::kIdxImagesMagic);
  const std::uint32_t count = in.u32("the image count");
  const std::uint32_t rows = in.u32("the row count");
  const std::uint32_t cols = in.u32("the column count");
  constexpr std::uint32_t kMaxSide = 1u << 15;
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide) {
    throw FileError(in.path(), 0,
                    "image size " + std::to_string(rows) + "x" + std::to_string(cols) +
                        " is not in [1, " + std::to_string(kMaxSide) + "] per side");
  }
  if (count == 0) throw FileError(in.path(), 0, "declares no images");
  IdxImages images;
  images.file_count = count;
  images.rows = static_cast<int>(rows);
  images.cols = static_cast<int>(cols);
  images.count = detail::items_to_read(in, count, limit);
  const std::int64_t bytes = images.count * images.image_size();
  if (bytes > (std::int64_t{1} << 34)) throw FileError(in.path(), 0, "too large to load");
  images.pixels.resize(static_cast<std::size_t>(bytes));
  in.read(images.pixels.data(), bytes, std::to_string(images.count) + " images");
  if (images.count == count && in.more()) {
    throw FileError(in.path(), 0,
                    "unexpected data after the " + std::to_string(count) + " declared images");
  }
  return images;
}

/// Reads an IDX label file (magic 2049), all labels or the first `limit`.
inline IdxLabels read_idx_labels(const std::filesystem::path& path,
                                 std::optional<std::int64_t> limit = std::nullopt) {
  detail::GzReader in(path);
  detail::check_magic(in, in.u32("the magic number"), detail::kIdxLabelsMagic);
  const std::uint32_t count = in.u32("the label count");
  if (count == 0) throw FileError(in.path(), 0, "declares no labels");
  IdxLabels labels;
  labels.file_count = count;
  const std::int64_t n = detail::items_to_read(in, count, limit);
  labels.labels.resize(static_cast<std::size_t>(n));
  in.read(labels.labels.data(), n, std::to_string(n) + " labels");
  if (n == count && in.more()) {
    throw FileError(in.path(), 0,
                    "unexpected data after the " + std::to_string(count) + " declared labels");
  }
  return labels;
}

/// Images with their labels.
struct LabeledImages {
  IdxImages images;
  std::vector<std::uint8_t> labels;  ///< one per image
};

/// Which part of a data set.
enum class Split { train, test };

/// Reads `<prefix>-images-idx3-ubyte.gz` and `<prefix>-labels-idx1-ubyte.gz`
/// from `dir` (prefix "train" or "t10k", the MNIST file names), all or the
/// first `limit`, and checks that both files declare the same count.
inline LabeledImages load_idx_pair(const std::filesystem::path& dir, Split split,
                                   std::optional<std::int64_t> limit = std::nullopt) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const std::filesystem::path image_path = dir / (prefix + "-images-idx3-ubyte.gz");
  const std::filesystem::path label_path = dir / (prefix + "-labels-idx1-ubyte.gz");
  if (!std::filesystem::exists(image_path)) {
    throw FileError(image_path.string(), 0,
                    "not found (Fashion-MNIST: install the Debian package dataset-fashion-mnist, "
                    "or give the directory holding the IDX files)");
  }
  LabeledImages set;
  set.images = read_idx_images(image_path, limit);
  IdxLabels labels = read_idx_labels(label_path, limit);
  if (labels.file_count != set.images.file_count) {
    throw FileError(label_path.string(), 0,
                    "declares " + std::to_string(labels.file_count) + " labels but '" +
                        image_path.string() + "' declares " +
                        std::to_string(set.images.file_count) + " images");
  }
  set.labels = std::move(labels.labels);
  return set;
}

/// Fashion-MNIST from `dir` (default: the Debian package's directory).
inline LabeledImages load_fashion_mnist(const std::filesystem::path& dir = kFashionMnistDir,
                                        Split split = Split::test,
                                        std::optional<std::int64_t> limit = std::nullopt) {
  return load_idx_pair(dir, split, limit);
}

/// The model input of images `first` .. `first + count - 1`: x = pixel / 255
/// as float, count x 1 x rows x cols (NCHW with one channel), into `out`.
inline void normalize_images(const IdxImages& images, std::int64_t first, std::int64_t count,
                             std::span<float> out) {
  if (first < 0 || count < 0 || first + count > images.count ||
      out.size() < static_cast<std::size_t>(count * images.image_size())) {
    throw std::invalid_argument("normalize_images: images [" + std::to_string(first) + ", " +
                                std::to_string(first + count) + ") of " +
                                std::to_string(images.count) + " into a buffer of " +
                                std::to_string(out.size()) + " floats");
  }
  const std::span<const std::uint8_t> src =
      std::span<const std::uint8_t>(images.pixels)
          .subspan(static_cast<std::size_t>(first * images.image_size()),
                   static_cast<std::size_t>(count * images.image_size()));
  for (std::size_t i = 0; i < src.size(); ++i) out[i] = static_cast<float>(src[i]) / 255.0f;
}

}  // namespace sfc::examples
