// The model runner of examples/model/: manifest and blob validation, IDX
// reading, the graph executor against a double-precision reference on a
// synthetic model with 1x1, 3x3, 5x5 and 7x7 convolutions, and the real
// model fmnist_res3x3 on Fashion-MNIST (reference logits and top-1 with
// every float backend).
//
// The Fashion-MNIST tests need the Debian package dataset-fashion-mnist
// (scripts/install-deps.sh installs it; SFC_FASHION_MNIST_DIR overrides the
// directory). Without it they fail: they are not skipped.

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "model/backends.hpp"
#include "model/cost.hpp"
#include "model/evaluate.hpp"
#include "model/idx.hpp"
#include "model/model.hpp"
#include "model/network.hpp"
#include "model/reference.hpp"

namespace {

namespace ex = sfc::examples;
namespace fs = std::filesystem;

// Whole-network runs are sized down in unoptimized or sanitized builds,
// where one image takes seconds (1-4 s per backend under ASan) instead of
// milliseconds: there they check 1 image against the reference logits and
// top-1 on 2 images instead of 100 and 1000.
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
constexpr bool kFullSize = true;
#else
constexpr bool kFullSize = false;
#endif

const fs::path kModelDir = SFC_EXAMPLES_DATA_DIR;
const fs::path kManifest = kModelDir / "fmnist_res3x3.txt";

fs::path dataset_dir() {
  const char* env = std::getenv("SFC_FASHION_MNIST_DIR");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::path(ex::kFashionMnistDir);
}

/// A fresh directory for one test's files, removed at the end.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("sfc_test_fmnist_" + std::string(info->name()) + "_" + std::to_string(stamp) + "_" +
             std::to_string(std::random_device{}()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

void write_floats(const fs::path& path, const std::vector<float>& values) {
  std::ofstream out(path, std::ios::binary);
  for (const float v : values) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    const char bytes[4] = {static_cast<char>(bits & 0xff), static_cast<char>((bits >> 8) & 0xff),
                           static_cast<char>((bits >> 16) & 0xff), static_cast<char>(bits >> 24)};
    out.write(bytes, 4);
  }
  ASSERT_TRUE(out.good()) << path;
}

/// A synthetic model in the manifest format: tensors are laid out back to
/// back (in declaration order) and filled with seeded random values scaled
/// by 1 / sqrt(fan-in), so that activations stay of order one.
struct SyntheticModel {
  std::string header;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> tensors;
  std::vector<std::string> ops;
  std::string output;

  std::string manifest() const {
    // (Appends only: GCC 12 warns falsely about `s += " " + std::to_string(d)`.)
    std::string s = header;
    s.append("\ninput_norm x=pixel/255\n");
    std::int64_t offset = 0;
    for (const auto& [name, dims] : tensors) {
      s.append(name).append(" f32 ").append(std::to_string(dims.size()));
      std::int64_t n = 1;
      for (const auto d : dims) {
        s.append(" ").append(std::to_string(d));
        n *= d;
      }
      s.append(" ").append(std::to_string(offset)).append("\n");
      offset += 4 * n;
    }
    for (const auto& op : ops) s.append(op).append("\n");
    return s.append("output ").append(output).append("\n");
  }

  std::vector<float> blob(std::uint32_t seed = 7) const {
    std::mt19937 rng(seed);
    std::vector<float> values;
    for (const auto& [name, dims] : tensors) {
      std::int64_t n = 1, fan_in = 1;
      for (std::size_t d = 0; d < dims.size(); ++d) {
        n *= dims[d];
        if (d > 0) fan_in *= dims[d];
      }
      std::normal_distribution<float> dist(
          0.0f, dims.size() == 1 ? 0.1f : 1.0f / std::sqrt(float(fan_in)));
      for (std::int64_t i = 0; i < n; ++i) values.push_back(dist(rng));
    }
    return values;
  }

  /// Writes <dir>/<stem>.txt and .bin with the manifest (optionally edited
  /// by `edit`) and the blob; returns the manifest path.
  fs::path write(const fs::path& dir, const std::function<void(std::string&)>& edit = {},
                 const std::string& stem = "model") const {
    std::string text = manifest();
    if (edit) edit(text);
    const fs::path path = dir / (stem + ".txt");
    write_text(path, text);
    write_floats(dir / (stem + ".bin"), blob());
    return path;
  }
};

/// A small model: conv 3x3 -> maxpool -> fc, 3 classes. Its lines: 1 header,
/// 2 input_norm, 3-6 tensors, 7 conv, 8 maxpool, 9 fc, 10 output.
SyntheticModel tiny_model() {
  return SyntheticModel{
      "model tiny input 1 6 6 classes 3",
      {{"c1.weight", {2, 1, 3, 3}}, {"c1.bias", {2}}, {"fc.weight", {3, 18}}, {"fc.bias", {3}}},
      {"op c1 conv k=3 stride=1 pad=1 cin=1 cout=2 in=x out=a w=c1.weight b=c1.bias relu=1",
       "op p maxpool k=2 stride=2 pad=0 in=a out=b",
       "op f fc cin=18 cout=3 in=b out=logits w=fc.weight b=fc.bias relu=0"},
      "logits"};
}

/// Replaces the first occurrence of `from` (which must exist).
std::function<void(std::string&)> replace(std::string from, std::string to) {
  return [from = std::move(from), to = std::move(to)](std::string& s) {
    const auto at = s.find(from);
    ASSERT_NE(at, std::string::npos) << "test setup: '" << from << "' not in the manifest";
    s.replace(at, from.size(), to);
  };
}

/// Runs `f`, which must throw FileError at `line` (0: no line) of a file
/// whose name ends with `file_suffix`, with `what` in the message.
template <class F>
void expect_file_error(F&& f, const std::string& file_suffix, std::int64_t line,
                       const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << what << "'";
  } catch (const ex::FileError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(what), std::string::npos) << "message: " << message;
    EXPECT_TRUE(e.file().ends_with(file_suffix)) << "file: " << e.file();
    EXPECT_EQ(e.line(), line) << "message: " << message;
    const std::string prefix = e.file() + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
    EXPECT_EQ(message.rfind(prefix, 0), 0u)
        << "message should start with '" << prefix << "': " << message;
  }
}

void expect_manifest_error(const std::function<void(std::string&)>& edit, std::int64_t line,
                           const std::string& what, const SyntheticModel& model = tiny_model()) {
  const TempDir dir;
  const fs::path path = model.write(dir.path(), edit);
  expect_file_error([&] { (void)ex::load_model(path); }, "model.txt", line, what);
}

// ---------------------------------------------------------------------------
// Manifest and blob validation.
// ---------------------------------------------------------------------------

TEST(Manifest, TinyModelLoads) {
  const TempDir dir;
  const ex::Model m = ex::load_model(tiny_model().write(dir.path()));
  EXPECT_EQ(m.name, "tiny");
  EXPECT_EQ(m.input, (ex::ValueShape{1, 6, 6}));
  ASSERT_EQ(m.ops.size(), 3u);
  EXPECT_EQ(m.values[static_cast<std::size_t>(m.ops[1].output)].shape, (ex::ValueShape{2, 3, 3}));
  EXPECT_EQ(m.output, m.find_value("logits"));
  EXPECT_EQ(m.parameters(), 18 + 2 + 54 + 3);
  const std::vector<float> blob = tiny_model().blob();
  EXPECT_EQ(m.tensors[3].data, std::vector<float>(blob.end() - 3, blob.end()));  // fc.bias
}

TEST(Manifest, BadHeader) {
  expect_manifest_error(replace("input 1 6 6 classes", "input 1 6 classes"), 1,
                        "the first line must be the header");
  expect_manifest_error(replace("model tiny", "modle tiny"), 1,
                        "the first line must be the header");
  expect_manifest_error(replace("classes 3", "classes three"), 1,
                        "classes: 'three' is not an integer");
  expect_manifest_error(replace("input 1 6 6", "input 1 0 6"), 1, "input height = 0 is outside");
}

TEST(Manifest, UnknownOpType) {
  expect_manifest_error(replace("op p maxpool", "op p avgpool"), 8,
                        "p: unknown op type 'avgpool' (expected conv, add, maxpool, gap or fc)");
}

TEST(Manifest, UnknownRecordsAndKeys) {
  expect_manifest_error(replace("output logits", "softmax logits\noutput logits"), 10,
                        "unknown record 'softmax'");
  expect_manifest_error(replace("pad=0 in=a", "pad=0 dilation=1 in=a"), 8,
                        "p: unknown key 'dilation' for a maxpool op");
  expect_manifest_error(replace("relu=1", "relu=1 relu=0"), 7, "c1: key 'relu' is given twice");
  expect_manifest_error(replace(" b=c1.bias", ""), 7, "c1: missing key 'b'");
  expect_manifest_error(replace("relu=1", "relu=2"), 7, "c1: relu = 2 is outside [0, 1]");
  expect_manifest_error(replace("input_norm x=pixel/255", "input_norm x=(pixel-33)/78"), 2,
                        "unsupported input normalization");
  expect_manifest_error(replace("input_norm x=pixel/255\n", ""), 6,
                        "op before the input_norm record");
  expect_manifest_error(replace("output logits\n", "output logits\nop g gap in=a out=g\n"), 11,
                        "unexpected record after `output`");
  expect_manifest_error(replace("output logits\n", ""), 0, "no `output <value>` record");
}

TEST(Manifest, TensorRecords) {
  expect_manifest_error(replace("c1.bias f32", "c1.bias f16"), 4,
                        "tensor 'c1.bias': data type 'f16' is not supported");
  expect_manifest_error(replace("c1.bias f32 1 2", "c1.bias f32 2 2"), 4,
                        "tensor 'c1.bias': ndim = 2 needs 6 fields, got 5");
  expect_manifest_error(replace("c1.bias f32 1 2 72", "c1.bias f32 1 2 -8"), 4,
                        "tensor 'c1.bias' byte_offset = -8 is outside");
  expect_manifest_error(replace("fc.bias f32", "c1.bias f32"), 6,
                        "tensor 'c1.bias' is declared twice");
  expect_manifest_error(replace("w=fc.weight", "w=fc.wieght"), 9,
                        "f: weight tensor 'fc.wieght' is not declared");
  expect_manifest_error(replace("w=c1.weight", "w=fc.weight"), 7,
                        "c1: weight tensor 'fc.weight' has dims [3, 18], expected [2, 1, 3, 3]");
}

TEST(Manifest, TensorOffsetOutOfRange) {
  // fc.bias (line 6, 12 bytes) moved past the end of the 308-byte blob.
  expect_manifest_error(replace("fc.bias f32 1 3 296", "fc.bias f32 1 3 400"), 6,
                        "tensor 'fc.bias' [3] needs bytes [400, 412) but");
  expect_manifest_error(replace("fc.bias f32 1 3 296", "fc.bias f32 1 3 300"), 6,
                        "needs bytes [300, 312)");
}

TEST(Manifest, BlobCoverage) {
  // Overlap: c1.bias moved onto the end of c1.weight.
  expect_manifest_error(replace("c1.bias f32 1 2 72", "c1.bias f32 1 2 68"), 4,
                        "tensor 'c1.bias' at byte 68 overlaps tensor 'c1.weight'");
  // A blob longer than its tensors.
  {
    const TempDir dir;
    const fs::path path = tiny_model().write(dir.path());
    std::ofstream(dir.path() / "model.bin", std::ios::binary | std::ios::app) << "tail";
    expect_file_error([&] { (void)ex::load_model(path); }, "model.bin", 0,
                      "has 312 bytes but the tensors of");
  }
  // A non-finite weight.
  {
    const TempDir dir;
    const fs::path path = tiny_model().write(dir.path());
    std::vector<float> blob = tiny_model().blob();
    blob[21] = std::numeric_limits<float>::quiet_NaN();  // fc.weight (from float 20) element 1
    write_floats(dir.path() / "model.bin", blob);
    expect_file_error([&] { (void)ex::load_model(path); }, "model.txt", 5,
                      "tensor 'fc.weight' element 1 is not finite");
  }
  // A missing blob.
  {
    const TempDir dir;
    const fs::path path = tiny_model().write(dir.path());
    fs::remove(dir.path() / "model.bin");
    expect_file_error([&] { (void)ex::load_model(path); }, "model.bin", 0, "cannot open");
  }
  expect_file_error([] { (void)ex::load_model("/nonexistent/sfc/model.txt"); }, "model.txt", 0,
                    "cannot open the model manifest");
}

TEST(Manifest, ConvInputChannelMismatch) {
  expect_manifest_error(replace("cin=1 cout=2", "cin=2 cout=2"), 7,
                        "c1: cin=2 but its input 'x' has 1 channels (1x6x6)");
}

TEST(Manifest, ReadsUndefinedValue) {
  expect_manifest_error(replace("in=a out=b", "in=z out=b"), 8,
                        "p: reads 'z', which is not defined by an earlier op");
  // A value defined only later is not readable either.
  expect_manifest_error(replace("in=x out=a", "in=b out=a"), 7,
                        "c1: reads 'b', which is not defined");
  expect_manifest_error(replace("output logits", "output nothing"), 10,
                        "output 'nothing' is not a defined value");
  expect_manifest_error(replace("out=b", "out=a"), 8,
                        "p: out='a' is already defined (every op writes a new value)");
}

TEST(Manifest, UnsupportedConvAndPool) {
  expect_manifest_error(replace("stride=1 pad=1", "stride=2 pad=1"), 7,
                        "c1: stride=2 is not supported (only stride=1)");
  expect_manifest_error(replace("k=3 stride=1 pad=1", "k=3 stride=1 pad=0"), 7,
                        "c1: pad=0 with k=3 is not supported");
  expect_manifest_error({}, 7, "c1: kernel k=4 is not supported (only odd kernel sizes)", [] {
    SyntheticModel m = tiny_model();
    m.ops[0] =
        "op c1 conv k=4 stride=1 pad=1 cin=1 cout=2 in=x out=a "
        "w=c1.weight b=c1.bias relu=1";
    return m;
  }());
  expect_manifest_error(replace("maxpool k=2 stride=2", "maxpool k=3 stride=2"), 8,
                        "p: maxpool k=3 stride=2 pad=0 is not supported (only k=2 stride=2 pad=0)");
}

TEST(Manifest, ShapeChecks) {
  expect_manifest_error(replace("fc cin=18", "fc cin=72"), 9,
                        "f: cin=72 but its input 'b' (2x3x3) has 18 values");
  expect_manifest_error(replace("cout=3 in=b", "cout=4 in=b"), 9,
                        "f: weight tensor 'fc.weight' has dims [3, 18], expected [4, 18]");
  SyntheticModel m = tiny_model();
  m.ops.insert(m.ops.begin() + 2, "op s add in=a,b out=c relu=0");
  expect_manifest_error({}, 9, "s: adds values of different shapes (2x6x6 and 2x3x3)", m);
  m = tiny_model();
  m.header = "model tiny input 1 6 6 classes 4";
  expect_manifest_error({}, 10,
                        "output 'logits' has 3 values (3x1x1) but the header says classes 4", m);
}

// ---------------------------------------------------------------------------
// IDX files.
// ---------------------------------------------------------------------------

std::vector<unsigned char> idx_header(std::uint32_t magic, std::vector<std::uint32_t> dims) {
  std::vector<unsigned char> bytes;
  dims.insert(dims.begin(), magic);
  for (const auto v : dims)
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<unsigned char>(v >> s));
  return bytes;
}

void write_gz(const fs::path& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.string().c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

/// 3 images of 2x4 pixels: image i, pixel j = 10 * i + j.
std::vector<unsigned char> three_images() {
  std::vector<unsigned char> b = idx_header(2051, {3, 2, 4});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 8; ++j) b.push_back(static_cast<unsigned char>(10 * i + j));
  return b;
}

TEST(Idx, ReadsImagesAndLabels) {
  const TempDir dir;
  write_gz(dir.path() / "t10k-images-idx3-ubyte.gz", three_images());
  std::vector<unsigned char> labels = idx_header(2049, {3});
  labels.insert(labels.end(), {7, 0, 9});
  write_gz(dir.path() / "t10k-labels-idx1-ubyte.gz", labels);

  const ex::LabeledImages all = ex::load_idx_pair(dir.path(), ex::Split::test);
  EXPECT_EQ(all.images.count, 3);
  EXPECT_EQ(all.images.rows, 2);
  EXPECT_EQ(all.images.cols, 4);
  EXPECT_EQ(all.images.image(2)[5], 25);
  EXPECT_EQ(all.labels, (std::vector<std::uint8_t>{7, 0, 9}));

  const ex::LabeledImages two = ex::load_idx_pair(dir.path(), ex::Split::test, 2);
  EXPECT_EQ(two.images.count, 2);
  EXPECT_EQ(two.images.file_count, 3);
  EXPECT_EQ(two.labels.size(), 2u);

  std::vector<float> x(16);
  ex::normalize_images(all.images, 1, 2, x);
  EXPECT_EQ(x[0], 10.0f / 255.0f);
  EXPECT_EQ(x[15], 27.0f / 255.0f);
  EXPECT_THROW(ex::normalize_images(all.images, 2, 2, x), std::invalid_argument);
}

TEST(Idx, BadMagic) {
  const TempDir dir;
  std::vector<unsigned char> labels = idx_header(2049, {3});
  labels.insert(labels.end(), {1, 2, 3});
  write_gz(dir.path() / "labels.gz", labels);
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "labels.gz"); }, "labels.gz", 0,
                    "magic number 2049 (IDX labels), expected 2051 (IDX images)");
  write_gz(dir.path() / "images.gz", three_images());
  expect_file_error([&] { (void)ex::read_idx_labels(dir.path() / "images.gz"); }, "images.gz", 0,
                    "magic number 2051 (IDX images), expected 2049 (IDX labels)");
  write_gz(dir.path() / "junk.gz", {0x1f, 0x00, 0x08, 0x03, 0, 0, 0, 1});
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "junk.gz"); }, "junk.gz", 0,
                    "magic number 520095747, expected 2051");
}

TEST(Idx, Truncated) {
  const TempDir dir;
  // Complete gzip stream, incomplete IDX data: 3 images declared, 2.5 present.
  std::vector<unsigned char> short_images = three_images();
  short_images.resize(short_images.size() - 4);
  write_gz(dir.path() / "short.gz", short_images);
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "short.gz"); }, "short.gz", 0,
                    "truncated: 3 images needs 24 bytes from byte 16, but the data ends after 20");
  // Reading only the images that are complete works.
  EXPECT_EQ(ex::read_idx_images(dir.path() / "short.gz", 2).count, 2);

  // The header itself cut short.
  write_gz(dir.path() / "header.gz", {0, 0, 8, 3, 0, 0});
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "header.gz"); }, "header.gz", 0,
                    "truncated: the image count needs 4 bytes");

  // Labels: 5 declared, 3 present.
  std::vector<unsigned char> labels = idx_header(2049, {5});
  labels.insert(labels.end(), {1, 2, 3});
  write_gz(dir.path() / "labels.gz", labels);
  expect_file_error([&] { (void)ex::read_idx_labels(dir.path() / "labels.gz"); }, "labels.gz", 0,
                    "truncated: 5 labels needs 5 bytes");

  // A gzip stream cut in the middle: an error, never a short data set.
  std::vector<unsigned char> big = idx_header(2051, {64, 28, 28});
  std::mt19937 rng(3);
  for (int i = 0; i < 64 * 28 * 28; ++i) big.push_back(static_cast<unsigned char>(rng()));
  write_gz(dir.path() / "cut.gz", big);
  const auto size = fs::file_size(dir.path() / "cut.gz");
  fs::resize_file(dir.path() / "cut.gz", size / 2);
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "cut.gz"); }, "cut.gz", 0,
                    "truncated");
}

TEST(Idx, OtherErrors) {
  const TempDir dir;
  std::vector<unsigned char> extra = three_images();
  extra.push_back(0);
  write_gz(dir.path() / "extra.gz", extra);
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "extra.gz"); }, "extra.gz", 0,
                    "unexpected data after the 3 declared images");
  write_gz(dir.path() / "empty.gz", idx_header(2051, {0, 28, 28}));
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "empty.gz"); }, "empty.gz", 0,
                    "declares no images");
  write_gz(dir.path() / "flat.gz", idx_header(2051, {1, 0, 28}));
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "flat.gz"); }, "flat.gz", 0,
                    "image size 0x28 is not in [1, 32768] per side");
  expect_file_error([&] { (void)ex::read_idx_images(dir.path() / "missing.gz"); }, "missing.gz", 0,
                    "cannot open");
  // Image and label files that disagree on the count.
  write_gz(dir.path() / "train-images-idx3-ubyte.gz", three_images());
  std::vector<unsigned char> labels = idx_header(2049, {2});
  labels.insert(labels.end(), {1, 2});
  write_gz(dir.path() / "train-labels-idx1-ubyte.gz", labels);
  expect_file_error([&] { (void)ex::load_idx_pair(dir.path(), ex::Split::train); },
                    "train-labels-idx1-ubyte.gz", 0, "declares 2 labels but");
  expect_file_error([&] { (void)ex::load_idx_pair(dir.path() / "nowhere", ex::Split::test); },
                    "t10k-images-idx3-ubyte.gz", 0,
                    "install the Debian package dataset-fashion-mnist");
}

// ---------------------------------------------------------------------------
// The executor on a synthetic model against a double-precision reference.
// ---------------------------------------------------------------------------

/// Every op kind and every kernel size the SFC backend distinguishes: 5x5
/// and 7x7 convs, a residual add, a 1x1 conv (direct fallback), maxpool of
/// an odd size (11 -> 5), 3x3 conv, an unused value, gap and fc.
SyntheticModel mixed_model() {
  return SyntheticModel{
      "model mixed input 2 11 11 classes 5",
      {{"c1.w", {6, 2, 5, 5}},
       {"c1.b", {6}},
       {"c2.w", {6, 6, 7, 7}},
       {"c2.b", {6}},
       {"c3.w", {8, 6, 1, 1}},
       {"c3.b", {8}},
       {"c4.w", {8, 8, 3, 3}},
       {"c4.b", {8}},
       {"fc.w", {5, 8}},
       {"fc.b", {5}}},
      {"op c1 conv k=5 stride=1 pad=2 cin=2 cout=6 in=x out=a1 w=c1.w b=c1.b relu=1",
       "op c2 conv k=7 stride=1 pad=3 cin=6 cout=6 in=a1 out=a2 w=c2.w b=c2.b relu=0",
       "op s1 add in=a2,a1 out=a3 relu=1", "op unused gap in=a2 out=dead",
       "op c3 conv k=1 stride=1 pad=0 cin=6 cout=8 in=a3 out=a4 w=c3.w b=c3.b relu=1",
       "op p1 maxpool k=2 stride=2 pad=0 in=a4 out=a5",
       "op c4 conv k=3 stride=1 pad=1 cin=8 cout=8 in=a5 out=a6 w=c4.w b=c4.b relu=0",
       "op s2 add in=a6,a5 out=a7 relu=0", "op g gap in=a7 out=a8",
       "op fc fc cin=8 cout=5 in=a8 out=logits w=fc.w b=fc.b relu=0"},
      "logits"};
}

/// The model's output for one image, straight from the format's
/// definitions, in double.
std::vector<double> reference_forward(const ex::Model& m, std::span<const float> image) {
  std::vector<std::vector<double>> v(m.values.size());
  v[0].assign(image.begin(), image.end());
  for (const ex::Op& op : m.ops) {
    const std::vector<double>& a = v[static_cast<std::size_t>(op.inputs[0])];
    const ex::ValueShape& s = m.values[static_cast<std::size_t>(op.inputs[0])].shape;
    const ex::ValueShape& o = m.values[static_cast<std::size_t>(op.output)].shape;
    std::vector<double> out(static_cast<std::size_t>(o.elements()));
    const auto relu = [&](double x) { return op.relu ? std::max(x, 0.0) : x; };
    const auto at = [](const std::vector<double>& t, const ex::ValueShape& sh, int c, int y,
                       int x) {
      return t[(static_cast<std::size_t>(c) * sh.height + y) * sh.width + x];
    };
    switch (op.kind) {
      case ex::OpKind::conv: {
        const auto& w = m.tensors[static_cast<std::size_t>(op.weight)].data;
        const auto& b = m.tensors[static_cast<std::size_t>(op.bias)].data;
        const int k = op.kernel;
        for (int co = 0; co < o.channels; ++co)
          for (int y = 0; y < o.height; ++y)
            for (int x = 0; x < o.width; ++x) {
              double sum = b[static_cast<std::size_t>(co)];
              for (int ci = 0; ci < s.channels; ++ci)
                for (int ky = 0; ky < k; ++ky)
                  for (int kx = 0; kx < k; ++kx) {
                    const int iy = y + ky - op.pad, ix = x + kx - op.pad;
                    if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
                    sum +=
                        double(w[((static_cast<std::size_t>(co) * s.channels + ci) * k + ky) * k +
                                 kx]) *
                        at(a, s, ci, iy, ix);
                  }
              out[(static_cast<std::size_t>(co) * o.height + y) * o.width + x] = relu(sum);
            }
        break;
      }
      case ex::OpKind::add: {
        const std::vector<double>& b = v[static_cast<std::size_t>(op.inputs[1])];
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = relu(a[i] + b[i]);
        break;
      }
      case ex::OpKind::maxpool:
        for (int c = 0; c < o.channels; ++c)
          for (int y = 0; y < o.height; ++y)
            for (int x = 0; x < o.width; ++x)
              out[(static_cast<std::size_t>(c) * o.height + y) * o.width + x] =
                  std::max({at(a, s, c, 2 * y, 2 * x), at(a, s, c, 2 * y, 2 * x + 1),
                            at(a, s, c, 2 * y + 1, 2 * x), at(a, s, c, 2 * y + 1, 2 * x + 1)});
        break;
      case ex::OpKind::gap:
        for (int c = 0; c < s.channels; ++c) {
          double sum = 0;
          for (int y = 0; y < s.height; ++y)
            for (int x = 0; x < s.width; ++x) sum += at(a, s, c, y, x);
          out[static_cast<std::size_t>(c)] = sum / (s.height * s.width);
        }
        break;
      case ex::OpKind::fc: {
        const auto& w = m.tensors[static_cast<std::size_t>(op.weight)].data;
        const auto& b = m.tensors[static_cast<std::size_t>(op.bias)].data;
        for (int co = 0; co < op.out_channels; ++co) {
          double sum = b[static_cast<std::size_t>(co)];
          for (int ci = 0; ci < op.in_channels; ++ci)
            sum += double(w[static_cast<std::size_t>(co) * op.in_channels + ci]) *
                   a[static_cast<std::size_t>(ci)];
          out[static_cast<std::size_t>(co)] = relu(sum);
        }
        break;
      }
    }
    v[static_cast<std::size_t>(op.output)] = std::move(out);
  }
  return v[static_cast<std::size_t>(m.output)];
}

/// Every float backend factory, named.
// One thread per operator: ctest runs tests in parallel on few cores, where
// more OpenMP threads than cores slow the many short parallel regions down.
std::vector<std::pair<std::string, ex::ConvBackendFactory>> float_backends(int threads = 1) {
  std::vector<std::pair<std::string, ex::ConvBackendFactory>> f;
  f.emplace_back("direct", ex::direct_float_backend(threads));
  for (const ex::Float3x3 alg : ex::kFloat3x3Algorithms)
    f.emplace_back(ex::to_string(alg), ex::sfc_float_backend(alg, threads));
  return f;
}

TEST(Network, MixedModelMatchesDoubleReference) {
  const TempDir dir;
  const auto model =
      std::make_shared<const ex::Model>(ex::load_model(mixed_model().write(dir.path())));
  ASSERT_EQ(model->values[static_cast<std::size_t>(model->find_value("a5"))].shape,
            (ex::ValueShape{8, 5, 5}));
  constexpr int kBatch = 3;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::vector<float> input(static_cast<std::size_t>(kBatch * model->input.elements()));
  for (float& x : input) x = pixel(rng);
  std::vector<std::vector<double>> want;
  double scale = 0;
  for (int n = 0; n < kBatch; ++n) {
    want.push_back(reference_forward(
        *model,
        std::span<const float>(input).subspan(static_cast<std::size_t>(n * model->input.elements()),
                                              static_cast<std::size_t>(model->input.elements()))));
    for (const double v : want.back()) scale = std::max(scale, std::abs(v));
  }
  ASSERT_GT(scale, 0.1);
  for (const auto& [name, factory] : float_backends()) {
    SCOPED_TRACE(name);
    ex::Network net(model, factory);
    ASSERT_EQ(net.conv_layers().size(), 4u);
    if (name != "direct") {
      EXPECT_EQ(net.backend(0).name(), "sfc6_6_5");
      EXPECT_EQ(net.backend(1).name(), "sfc6_4_7");
      EXPECT_EQ(net.backend(2).name(), "direct");  // 1x1: no fast algorithm
      EXPECT_EQ(net.backend(3).name(), name);
    }
    // The whole batch, then image by image (other plans): both match.
    const std::vector<float> logits = net.forward(input, kBatch);
    for (int n = 0; n < kBatch; ++n) {
      const std::vector<float> one =
          net.forward(std::span<const float>(input).subspan(
                          static_cast<std::size_t>(n * model->input.elements()),
                          static_cast<std::size_t>(model->input.elements())),
                      1);
      for (int c = 0; c < model->classes; ++c) {
        const double w = want[static_cast<std::size_t>(n)][static_cast<std::size_t>(c)];
        EXPECT_NEAR(logits[static_cast<std::size_t>(n * model->classes + c)], w, 1e-4 * scale)
            << "image " << n << " class " << c;
        EXPECT_NEAR(one[static_cast<std::size_t>(c)], w, 1e-4 * scale)
            << "image " << n << " class " << c;
      }
    }
  }
}

TEST(Cost, MixedModelLayerByLayer) {
  const TempDir dir;
  const ex::Model model = ex::load_model(mixed_model().write(dir.path()));
  const std::vector<sfc::Conv2dShape> shapes = ex::conv_shapes(model);
  ASSERT_EQ(shapes.size(), 4u);
  EXPECT_EQ(shapes[0], sfc::Conv2dShape::square(1, 2, 6, 11, 5, 2));
  EXPECT_EQ(shapes[1], sfc::Conv2dShape::square(1, 6, 6, 11, 7, 3));
  EXPECT_EQ(shapes[2], sfc::Conv2dShape::square(1, 6, 8, 11, 1, 0));
  EXPECT_EQ(shapes[3], sfc::Conv2dShape::square(1, 8, 8, 5, 3, 1));
  const sfc::quant::BitWidths bits{.data = 6, .weight = 5};
  // Direct: one multiplication per MAC of the conv layers (the fc is not a
  // convolution).
  const sfc::quant::LayerCost direct = ex::model_cost(model, std::nullopt, bits);
  EXPECT_EQ(direct.multiplications, model.macs_per_image() - 8 * 5);
  EXPECT_DOUBLE_EQ(direct.bops, 30.0 * direct.multiplications + 32.0 * direct.accumulations);
  // Winograd F(2x2,3x3) for the 3x3 layer: 3x3 tiles of 4x4 products for
  // each of the 8x8 channel pairs; 5x5 and 7x7 layers through their SFC
  // algorithm; the 1x1 layer direct.
  const std::optional alg = ex::Float3x3::wino2_3;
  EXPECT_EQ(ex::layer_cost(shapes[3], alg, bits).multiplications, 9 * 16 * 8 * 8);
  EXPECT_EQ(ex::layer_cost(shapes[2], alg, bits).multiplications, 11 * 11 * 6 * 8);
  EXPECT_EQ(ex::layer_cost(shapes[2], alg, bits).bops, sfc::quant::direct_cost(shapes[2], bits).bops);
  using Sfc6_6_5 = sfc::SFC<6, 6, 5>;
  using Sfc6_4_7 = sfc::SFC<6, 4, 7>;
  EXPECT_EQ(ex::layer_cost(shapes[0], alg, bits).bops, sfc::quant::fast_cost<Sfc6_6_5>(shapes[0], bits).bops);
  EXPECT_EQ(ex::layer_cost(shapes[1], alg, bits).bops, sfc::quant::fast_cost<Sfc6_4_7>(shapes[1], bits).bops);
  for (const ex::Float3x3 a : ex::kFloat3x3Algorithms) {
    SCOPED_TRACE(ex::to_string(a));
    sfc::quant::LayerCost sum;
    for (const sfc::Conv2dShape& s : shapes) sum += ex::layer_cost(s, a, bits);
    const sfc::quant::LayerCost total = ex::model_cost(model, a, bits);
    EXPECT_EQ(total.multiplications, sum.multiplications);
    EXPECT_EQ(total.data_transform_additions, sum.data_transform_additions);
    EXPECT_DOUBLE_EQ(total.bops, sum.bops);
    EXPECT_LT(total.multiplications, direct.multiplications);
  }
}

TEST(Network, ObserverSeesEveryConvInput) {
  const TempDir dir;
  const auto model =
      std::make_shared<const ex::Model>(ex::load_model(mixed_model().write(dir.path())));
  ex::Network net(model, ex::direct_float_backend(1));
  std::vector<float> input(static_cast<std::size_t>(2 * model->input.elements()), 0.5f);
  std::vector<std::string> seen;
  net.set_observer([&](const ex::ConvLayer& layer, std::span<const float> in, int batch) {
    seen.push_back(layer.name);
    EXPECT_EQ(batch, 2);
    EXPECT_EQ(in.size(), static_cast<std::size_t>(layer.input_elements(batch)));
    if (layer.name == "c1") {
      EXPECT_TRUE(std::equal(in.begin(), in.end(), input.begin()));
    }
  });
  (void)net.forward(input, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"c1", "c2", "c3", "c4"}));
  net.set_observer({});
  (void)net.forward(input, 2);
  EXPECT_EQ(seen.size(), 4u);
}

TEST(Network, Errors) {
  const TempDir dir;
  const auto model =
      std::make_shared<const ex::Model>(ex::load_model(tiny_model().write(dir.path())));
  ex::Network net(model, ex::direct_float_backend(1));
  std::vector<float> input(36), logits(3);
  EXPECT_THROW(net.forward(std::span<const float>(input).first(35), 1, logits),
               std::invalid_argument);
  EXPECT_THROW(net.forward(input, 0, logits), std::invalid_argument);
  EXPECT_THROW(net.forward(input, 1, std::span<float>(logits).first(2)), std::invalid_argument);
  // A factory that refuses a layer: the error names the op and its line.
  try {
    ex::Network refused(model, [](const ex::ConvLayer&) -> std::unique_ptr<ex::ConvBackend> {
      throw std::runtime_error("no int4 kernel");
    });
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("op c1 (" + (dir.path() / "model.txt").string() +
                                         ":7): cannot build its backend: no int4 kernel"),
              std::string::npos)
        << e.what();
  }
}

// ---------------------------------------------------------------------------
// fmnist_res3x3 on Fashion-MNIST.
// ---------------------------------------------------------------------------

/// The first `count` test images; fails the test (no skip) without the data.
ex::LabeledImages test_images(std::int64_t count) {
  try {
    return ex::load_fashion_mnist(dataset_dir(), ex::Split::test, count);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "Fashion-MNIST is required (Debian package dataset-fashion-mnist, or set "
                     "SFC_FASHION_MNIST_DIR): "
                  << e.what();
    throw;
  }
}

TEST(Fmnist, ModelGraph) {
  const ex::Model m = ex::load_model(kManifest);
  EXPECT_EQ(m.name, "fmnist_res3x3");
  EXPECT_EQ(m.ops.size(), 13u);
  EXPECT_EQ(m.parameters(), 186314);
  EXPECT_EQ(m.macs_per_image(), 36'353'792);  // examples/data/FORMAT.md
  const std::vector<std::pair<const char*, ex::ValueShape>> shapes = {
      {"a1", {32, 28, 28}}, {"a4", {32, 28, 28}}, {"p1", {32, 14, 14}}, {"a8", {64, 14, 14}},
      {"p2", {64, 7, 7}},   {"a9", {128, 7, 7}},  {"g", {128, 1, 1}},   {"logits", {10, 1, 1}}};
  for (const auto& [name, shape] : shapes) {
    const int v = m.find_value(name);
    ASSERT_GE(v, 0) << name;
    EXPECT_EQ(m.values[static_cast<std::size_t>(v)].shape, shape) << name;
  }
}

TEST(Fmnist, ReferenceLogitsEveryFloatBackend) {
  const auto model = std::make_shared<const ex::Model>(ex::load_model(kManifest));
  const ex::ReferenceLogits ref = ex::load_reference(ex::default_reference_path(kManifest), 10);
  ASSERT_EQ(ref.rows(), 100u);
  ASSERT_TRUE(ref.accuracy.has_value());
  EXPECT_EQ(ref.accuracy->correct, 9351);
  const std::int64_t images = kFullSize ? 100 : 1;
  const ex::LabeledImages data = test_images(images);
  for (std::int64_t i = 0; i < images; ++i)
    ASSERT_EQ(data.labels[static_cast<std::size_t>(i)], ref.labels[static_cast<std::size_t>(i)])
        << i;
  for (const auto& [name, factory] : float_backends()) {
    ex::Network net(model, factory);
    const ex::Evaluation e = ex::evaluate(net, data, images, 32);
    const double diff = ex::max_abs_diff(e, ref);
    std::printf("[   info   ] %-9s max |logit - reference| over test images 0..%lld: %.3g\n",
                name.c_str(), static_cast<long long>(images - 1), diff);
    EXPECT_LE(diff, 1e-3) << name;
    for (std::int64_t i = 0; i < images; ++i)
      EXPECT_EQ(ex::argmax(e.row(i)), ref.predicted[static_cast<std::size_t>(i)])
          << name << " image " << i;
  }
}

TEST(Fmnist, Top1DirectEqualsSfc) {
  const auto model = std::make_shared<const ex::Model>(ex::load_model(kManifest));
  const std::int64_t images = kFullSize ? 1000 : 2;
  const ex::LabeledImages data = test_images(images);
  ex::Network direct(model, ex::direct_float_backend(1));
  ex::Network sfc(model, ex::sfc_float_backend(ex::Float3x3::sfc6_7_3, 1));
  const ex::Evaluation d = ex::evaluate(direct, data, images, 64);
  const ex::Evaluation s = ex::evaluate(sfc, data, images, 64);
  std::printf("[   info   ] top-1 on test images 0..%lld: direct %lld/%lld, sfc6_7_3 %lld/%lld\n",
              static_cast<long long>(images - 1), static_cast<long long>(d.correct),
              static_cast<long long>(images), static_cast<long long>(s.correct),
              static_cast<long long>(images));
  EXPECT_EQ(d.correct, s.correct);
  std::int64_t same = 0;
  for (std::int64_t i = 0; i < images; ++i) same += ex::argmax(d.row(i)) == ex::argmax(s.row(i));
  EXPECT_EQ(same, images) << "predictions differ on " << images - same << " images";
  if (kFullSize) {
    // The float model's accuracy on these 1000 images, for the record: it
    // must be far above chance.
    EXPECT_GT(d.correct, 900);
  }
}

}  // namespace
