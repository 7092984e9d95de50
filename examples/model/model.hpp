#pragma once
/// \file
/// A CNN in the plain-text manifest + float32 blob format of
/// examples/data/FORMAT.md: parsing, validation and weight loading.
///
///     const sfc::examples::Model model = sfc::examples::load_model("fmnist_res3x3.txt");
///
/// `load_model` reads the manifest and the `.bin` beside it (same stem) and
/// checks everything before returning, throwing `FileError` ("file:line:
/// what") at the first problem:
/// - records: the header first (`model <name> input C H W classes K`), then
///   `input_norm x=pixel/255` (the only normalization), tensor records, ops
///   in execution order and finally `output <value>`; unknown records, op
///   types or keys, missing or repeated keys, malformed numbers and
///   repeated names are errors;
/// - the graph: every op reads values defined earlier and writes one new
///   value; the shape (C x H x W) of every value is computed from the graph
///   and checked against each op (conv `cin`, fc `cin`, equal shapes for
///   `add`, weight and bias dimensions) and the output holds `classes`
///   values;
/// - what the executor supports: conv with an odd kernel k, stride 1 and
///   pad (k - 1) / 2 (height and width preserved); maxpool with k = 2,
///   stride 2, pad 0 (an odd row or column at the end is dropped, as in
///   PyTorch); gap; fc on the flattened (C, H, W) value;
/// - the blob: every tensor lies inside it, tensors do not overlap, together
///   they cover it exactly, and every weight is finite.

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "error.hpp"

namespace sfc::examples {

/// Channels x height x width of a value. Vectors (the outputs of gap and
/// fc) are C x 1 x 1.
struct ValueShape {
  int channels = 0;
  int height = 0;
  int width = 0;

  std::int64_t elements() const {
    return std::int64_t{channels} * std::int64_t{height} * std::int64_t{width};
  }
  /// "32x28x28".
  std::string to_string() const {
    return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
  }
  bool operator==(const ValueShape&) const = default;
};

/// A float32 tensor of the blob.
struct Tensor {
  std::string name;
  std::vector<std::int64_t> dims;  ///< row-major (conv weights OIHW, fc weights [out, in])
  std::int64_t offset = 0;         ///< byte offset in the blob
  std::int64_t line = 0;           ///< manifest line of its record
  std::vector<float> data;         ///< elements() values once loaded

  std::int64_t elements() const {
    std::int64_t n = 1;
    for (const std::int64_t d : dims) n *= d;
    return n;
  }
  std::int64_t bytes() const { return elements() * std::int64_t{sizeof(float)}; }
  /// "[32, 1, 3, 3]".
  std::string dims_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
  }
};

/// The operations of the format.
enum class OpKind { conv, add, maxpool, gap, fc };

/// The manifest spelling of `kind` ("conv", ...).
inline std::string_view to_string(OpKind kind) {
  switch (kind) {
    case OpKind::conv:
      return "conv";
    case OpKind::add:
      return "add";
    case OpKind::maxpool:
      return "maxpool";
    case OpKind::gap:
      return "gap";
    case OpKind::fc:
      return "fc";
  }
  return "?";
}

/// One op of the graph. Fields that do not apply to its kind keep their
/// defaults.
struct Op {
  std::string name;
  OpKind kind = OpKind::conv;
  std::int64_t line = 0;    ///< manifest line
  std::vector<int> inputs;  ///< value indices: two for add, one otherwise
  int output = -1;          ///< value index
  int kernel = 0;           ///< conv, maxpool
  int stride = 0;           ///< conv, maxpool
  int pad = 0;              ///< conv, maxpool
  int in_channels = 0;      ///< conv, fc
  int out_channels = 0;     ///< conv, fc
  int weight = -1;          ///< tensor index (conv, fc)
  int bias = -1;            ///< tensor index (conv, fc)
  bool relu = false;        ///< conv, add, fc
};

/// A value of the graph: the input `x` or the output of one op.
struct Value {
  std::string name;
  ValueShape shape;
  int producer = -1;     ///< index of the op writing it; -1 for the input
  int last_reader = -1;  ///< index of the last op reading it; -1 if none
};

/// A parsed and validated model.
struct Model {
  std::string name;
  std::string manifest;  ///< path of the manifest, for messages
  ValueShape input;      ///< C x H x W of one image
  int classes = 0;
  std::vector<Tensor> tensors;  ///< in manifest order
  std::vector<Value> values;    ///< values[0] is the input; values[i + 1] is written by ops[i]
  std::vector<Op> ops;          ///< in execution order
  int output = -1;              ///< value index of the logits

  /// Index of the value / tensor called `name`, or -1.
  int find_value(std::string_view value_name) const {
    for (std::size_t i = 0; i < values.size(); ++i)
      if (values[i].name == value_name) return static_cast<int>(i);
    return -1;
  }
  int find_tensor(std::string_view tensor_name) const {
    for (std::size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == tensor_name) return static_cast<int>(i);
    return -1;
  }

  /// Number of float parameters (all tensors).
  std::int64_t parameters() const {
    std::int64_t n = 0;
    for (const Tensor& t : tensors) n += t.elements();
    return n;
  }

  /// Multiply-accumulates of the conv and fc ops for one image.
  std::int64_t macs_per_image() const {
    std::int64_t n = 0;
    for (const Op& op : ops) {
      if (op.kind == OpKind::conv) {
        n += values[static_cast<std::size_t>(op.output)].shape.elements() * op.in_channels *
             op.kernel * op.kernel;
      } else if (op.kind == OpKind::fc) {
        n += std::int64_t{op.in_channels} * op.out_channels;
      }
    }
    return n;
  }
};

namespace detail {

/// Largest channel count, height or width accepted, and largest element
/// count of one value or tensor: far beyond any model this format carries,
/// small enough that no size computation can overflow.
inline constexpr std::int64_t kMaxExtent = std::int64_t{1} << 20;
inline constexpr std::int64_t kMaxElements = std::int64_t{1} << 31;

/// Splits a line at spaces and tabs.
inline std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

/// Parses the manifest line by line, keeping the position for messages.
class ManifestParser {
 public:
  explicit ManifestParser(std::string source) { model_.manifest = std::move(source); }

  Model parse(std::istream& in) {
    std::string text;
    bool saw_header = false, saw_norm = false, saw_output = false;
    while (std::getline(in, text)) {
      ++line_;
      if (!text.empty() && text.back() == '\r') text.pop_back();
      const std::vector<std::string_view> f = split_fields(text);
      if (line_ == 1) {
        parse_header(f);
        saw_header = true;
        continue;
      }
      if (f.empty()) continue;
      if (saw_output) fail("unexpected record after `output`: '" + text + "'");
      if (f[0] == "model") {
        fail("a second header (`model ...` must be the first line only)");
      } else if (f[0] == "input_norm") {
        if (saw_norm) fail("repeated input_norm record");
        parse_input_norm(f);
        saw_norm = true;
      } else if (f[0] == "op") {
        if (!saw_norm) fail("op before the input_norm record");
        parse_op(f);
      } else if (f[0] == "output") {
        parse_output(f);
        saw_output = true;
      } else if (f[0].find('.') != std::string_view::npos) {
        parse_tensor(f);
      } else {
        fail("unknown record '" + std::string(f[0]) +
             "' (expected input_norm, op, output, or a tensor record whose name contains '.')");
      }
    }
    if (in.bad()) fail_file("read error");
    if (!saw_header) fail_file("empty manifest (expected the header `model <name> input ...`)");
    if (!saw_norm) fail_file("no input_norm record");
    if (!saw_output) fail_file("no `output <value>` record at the end");
    return std::move(model_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw FileError(model_.manifest, line_, message);
  }
  [[noreturn]] void fail_file(const std::string& message) const {
    throw FileError(model_.manifest, 0, message);
  }

  /// An integer token in [lo, hi]; `what` names it in messages.
  std::int64_t integer(std::string_view token, const std::string& what, std::int64_t lo,
                       std::int64_t hi) const {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (ec != std::errc() || end != token.data() + token.size()) {
      fail(what + ": '" + std::string(token) + "' is not an integer");
    }
    if (v < lo || v > hi) {
      fail(what + " = " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    }
    return v;
  }

  int extent(std::string_view token, const std::string& what) const {
    return static_cast<int>(integer(token, what, 1, kMaxExtent));
  }

  void parse_header(const std::vector<std::string_view>& f) {
    if (f.size() != 8 || f[0] != "model" || f[2] != "input" || f[6] != "classes") {
      fail("the first line must be the header `model <name> input <C> <H> <W> classes <K>`");
    }
    model_.name = std::string(f[1]);
    model_.input = {extent(f[3], "input channels"), extent(f[4], "input height"),
                    extent(f[5], "input width")};
    if (model_.input.elements() > kMaxElements)
      fail("input " + model_.input.to_string() + " is too large");
    model_.classes = extent(f[7], "classes");
    model_.values.push_back(Value{"x", model_.input, -1, -1});
  }

  void parse_input_norm(const std::vector<std::string_view>& f) const {
    if (f.size() != 2 || f[1] != "x=pixel/255") {
      fail("unsupported input normalization (only `input_norm x=pixel/255` is supported)");
    }
  }

  void parse_tensor(const std::vector<std::string_view>& f) {
    const std::string name(f[0]);
    if (f.size() < 4) fail("tensor record must be `<name> f32 <ndim> <dims...> <byte_offset>`");
    if (f[1] != "f32") {
      fail("tensor '" + name + "': data type '" + std::string(f[1]) +
           "' is not supported (only f32)");
    }
    const auto ndim = integer(f[2], "tensor '" + name + "' ndim", 1, 8);
    if (f.size() != static_cast<std::size_t>(ndim) + 4) {
      fail("tensor '" + name + "': ndim = " + std::to_string(ndim) + " needs " +
           std::to_string(ndim + 4) + " fields, got " + std::to_string(f.size()));
    }
    if (model_.find_tensor(name) >= 0) fail("tensor '" + name + "' is declared twice");
    Tensor t;
    t.name = name;
    t.line = line_;
    std::int64_t elements = 1;
    for (std::int64_t d = 0; d < ndim; ++d) {
      const std::int64_t v =
          integer(f[static_cast<std::size_t>(3 + d)],
                  "tensor '" + name + "' dim " + std::to_string(d), 1, kMaxElements);
      elements *= v;  // both factors <= 2^31 and the product is checked at once
      if (elements > kMaxElements) fail("tensor '" + name + "' has too many elements");
      t.dims.push_back(v);
    }
    t.offset = integer(f.back(), "tensor '" + name + "' byte_offset", 0,
                       std::numeric_limits<std::int64_t>::max() / 2);
    model_.tensors.push_back(std::move(t));
  }

  /// The key=value fields of an op, each taken once.
  class Fields {
   public:
    Fields(const ManifestParser& p, const std::string& op, const std::vector<std::string_view>& f)
        : parser_(p), op_(op) {
      for (std::size_t i = 3; i < f.size(); ++i) {
        const std::size_t eq = f[i].find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == f[i].size()) {
          parser_.fail(op_ + ": field '" + std::string(f[i]) + "' is not key=value");
        }
        const std::string_view key = f[i].substr(0, eq);
        for (const auto& [k, v] : items_)
          if (k == key) parser_.fail(op_ + ": key '" + std::string(key) + "' is given twice");
        items_.emplace_back(key, f[i].substr(eq + 1));
        used_.push_back(false);
      }
    }

    /// The value of `key`; an error if absent.
    std::string_view text(std::string_view key) {
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (items_[i].first == key) {
          used_[i] = true;
          return items_[i].second;
        }
      }
      parser_.fail(op_ + ": missing key '" + std::string(key) + "'");
    }
    std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi) {
      return parser_.integer(text(key), op_ + ": " + std::string(key), lo, hi);
    }
    bool flag(std::string_view key) { return integer(key, 0, 1) == 1; }

    /// Fails on keys that were never asked for.
    void finish(std::string_view kind) const {
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (!used_[i]) {
          parser_.fail(op_ + ": unknown key '" + std::string(items_[i].first) + "' for a " +
                       std::string(kind) + " op");
        }
      }
    }

   private:
    const ManifestParser& parser_;
    const std::string& op_;
    std::vector<std::pair<std::string_view, std::string_view>> items_;
    std::vector<bool> used_;
  };

  /// Index of an already defined value; marks op `reader` as reading it.
  int read_value(std::string_view name, const std::string& op) {
    const int v = model_.find_value(name);
    if (v < 0) {
      fail(op + ": reads '" + std::string(name) +
           "', which is not defined by an earlier op (nor the input x)");
    }
    model_.values[static_cast<std::size_t>(v)].last_reader = static_cast<int>(model_.ops.size());
    return v;
  }

  /// Index of a declared tensor whose dims must be `dims`.
  int tensor(std::string_view name, const std::vector<std::int64_t>& dims, const std::string& op,
             const char* role) const {
    const int t = model_.find_tensor(name);
    if (t < 0) {
      fail(op + ": " + role + " tensor '" + std::string(name) +
           "' is not declared (tensor records must come before the ops using them)");
    }
    const Tensor& tensor = model_.tensors[static_cast<std::size_t>(t)];
    if (tensor.dims != dims) {
      Tensor want;
      want.dims = dims;
      fail(op + ": " + role + " tensor '" + tensor.name + "' has dims " + tensor.dims_string() +
           ", expected " + want.dims_string());
    }
    return t;
  }

  const ValueShape& shape_of(int value) const {
    return model_.values[static_cast<std::size_t>(value)].shape;
  }

  void parse_op(const std::vector<std::string_view>& f) {
    if (f.size() < 3) fail("op record must be `op <name> <type> key=value ...`");
    Op op;
    op.name = std::string(f[1]);
    op.line = line_;
    for (const Op& other : model_.ops)
      if (other.name == op.name) fail("op name '" + op.name + "' is used twice");
    const std::string& who = op.name;
    Fields fields(*this, who, f);
    ValueShape out;
    const std::string_view type = f[2];
    if (type == "conv") {
      op.kind = OpKind::conv;
      op.kernel = static_cast<int>(fields.integer("k", 1, 63));
      op.stride = static_cast<int>(fields.integer("stride", 1, kMaxExtent));
      op.pad = static_cast<int>(fields.integer("pad", 0, 63));
      op.in_channels = static_cast<int>(fields.integer("cin", 1, kMaxExtent));
      op.out_channels = static_cast<int>(fields.integer("cout", 1, kMaxExtent));
      op.inputs = {read_value(fields.text("in"), who)};
      const ValueShape& in = shape_of(op.inputs[0]);
      if (op.kernel % 2 == 0) {
        fail(who + ": kernel k=" + std::to_string(op.kernel) +
             " is not supported (only odd kernel sizes)");
      }
      if (op.stride != 1) {
        fail(who + ": stride=" + std::to_string(op.stride) + " is not supported (only stride=1)");
      }
      if (op.pad != (op.kernel - 1) / 2) {
        fail(who + ": pad=" + std::to_string(op.pad) + " with k=" + std::to_string(op.kernel) +
             " is not supported (only pad=(k-1)/2 = " + std::to_string((op.kernel - 1) / 2) +
             ", which keeps height and width)");
      }
      if (op.in_channels != in.channels) {
        fail(who + ": cin=" + std::to_string(op.in_channels) + " but its input '" +
             model_.values[static_cast<std::size_t>(op.inputs[0])].name + "' has " +
             std::to_string(in.channels) + " channels (" + in.to_string() + ")");
      }
      const std::int64_t k = op.kernel;
      op.weight = tensor(fields.text("w"), {op.out_channels, op.in_channels, k, k}, who, "weight");
      op.bias = tensor(fields.text("b"), {op.out_channels}, who, "bias");
      op.relu = fields.flag("relu");
      out = {op.out_channels, in.height, in.width};
    } else if (type == "add") {
      op.kind = OpKind::add;
      const std::string_view in = fields.text("in");
      const std::size_t comma = in.find(',');
      if (comma == std::string_view::npos || in.find(',', comma + 1) != std::string_view::npos) {
        fail(who + ": in='" + std::string(in) + "' must name two values, `in=A,B`");
      }
      op.inputs = {read_value(in.substr(0, comma), who), read_value(in.substr(comma + 1), who)};
      const ValueShape& a = shape_of(op.inputs[0]);
      const ValueShape& b = shape_of(op.inputs[1]);
      if (!(a == b)) {
        fail(who + ": adds values of different shapes (" + a.to_string() + " and " + b.to_string() +
             ")");
      }
      op.relu = fields.flag("relu");
      out = a;
    } else if (type == "maxpool") {
      op.kind = OpKind::maxpool;
      op.kernel = static_cast<int>(fields.integer("k", 1, kMaxExtent));
      op.stride = static_cast<int>(fields.integer("stride", 1, kMaxExtent));
      op.pad = static_cast<int>(fields.integer("pad", 0, kMaxExtent));
      op.inputs = {read_value(fields.text("in"), who)};
      if (op.kernel != 2 || op.stride != 2 || op.pad != 0) {
        fail(who + ": maxpool k=" + std::to_string(op.kernel) +
             " stride=" + std::to_string(op.stride) + " pad=" + std::to_string(op.pad) +
             " is not supported (only k=2 stride=2 pad=0)");
      }
      const ValueShape& in = shape_of(op.inputs[0]);
      if (in.height < 2 || in.width < 2) {
        fail(who + ": maxpool input " + in.to_string() + " is smaller than its 2x2 window");
      }
      out = {in.channels, in.height / 2, in.width / 2};
    } else if (type == "gap") {
      op.kind = OpKind::gap;
      op.inputs = {read_value(fields.text("in"), who)};
      out = {shape_of(op.inputs[0]).channels, 1, 1};
    } else if (type == "fc") {
      op.kind = OpKind::fc;
      op.in_channels = static_cast<int>(fields.integer("cin", 1, kMaxElements));
      op.out_channels = static_cast<int>(fields.integer("cout", 1, kMaxExtent));
      op.inputs = {read_value(fields.text("in"), who)};
      const ValueShape& in = shape_of(op.inputs[0]);
      if (op.in_channels != in.elements()) {
        fail(who + ": cin=" + std::to_string(op.in_channels) + " but its input '" +
             model_.values[static_cast<std::size_t>(op.inputs[0])].name + "' (" + in.to_string() +
             ") has " + std::to_string(in.elements()) + " values");
      }
      op.weight = tensor(fields.text("w"), {op.out_channels, op.in_channels}, who, "weight");
      op.bias = tensor(fields.text("b"), {op.out_channels}, who, "bias");
      op.relu = fields.flag("relu");
      out = {op.out_channels, 1, 1};
    } else {
      fail(who + ": unknown op type '" + std::string(type) +
           "' (expected conv, add, maxpool, gap or fc)");
    }
    const std::string_view out_name = fields.text("out");
    fields.finish(type);
    if (model_.find_value(out_name) >= 0) {
      fail(who + ": out='" + std::string(out_name) +
           "' is already defined (every op writes a new value)");
    }
    if (out.elements() > kMaxElements) fail(who + ": output " + out.to_string() + " is too large");
    op.output = static_cast<int>(model_.values.size());
    model_.values.push_back(
        Value{std::string(out_name), out, static_cast<int>(model_.ops.size()), -1});
    model_.ops.push_back(std::move(op));
  }

  void parse_output(const std::vector<std::string_view>& f) {
    if (f.size() != 2) fail("output record must be `output <value>`");
    const int v = model_.find_value(f[1]);
    if (v < 0) fail("output '" + std::string(f[1]) + "' is not a defined value");
    const ValueShape& s = shape_of(v);
    if (s.elements() != model_.classes) {
      fail("output '" + std::string(f[1]) + "' has " + std::to_string(s.elements()) + " values (" +
           s.to_string() + ") but the header says classes " + std::to_string(model_.classes));
    }
    model_.output = v;
  }

  Model model_;
  std::int64_t line_ = 0;
};

/// Size of an open binary stream (and rewinds it).
inline std::int64_t stream_size(std::istream& in) {
  in.seekg(0, std::ios::end);
  const std::int64_t size = static_cast<std::int64_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  return size;
}

}  // namespace detail

/// Parses and validates a manifest (everything but the blob). `source` names
/// the stream in messages. Tensors come back without data.
inline Model parse_manifest(std::istream& in, const std::string& source) {
  return detail::ManifestParser(source).parse(in);
}

/// Reads every tensor of `model` from the blob `bin` (`bin_name` in
/// messages): checks that tensors lie inside it, do not overlap and cover it
/// exactly, converts little-endian float32 to host floats and checks that
/// every value is finite.
inline void load_tensor_data(Model& model, std::istream& bin, const std::string& bin_name) {
  const std::int64_t size = detail::stream_size(bin);
  if (size < 0 || !bin) throw FileError(bin_name, 0, "cannot determine the file size");
  std::vector<const Tensor*> by_offset;
  std::int64_t covered = 0;
  for (const Tensor& t : model.tensors) {
    if (t.offset > size || t.bytes() > size - t.offset) {
      throw FileError(model.manifest, t.line,
                      "tensor '" + t.name + "' " + t.dims_string() + " needs bytes [" +
                          std::to_string(t.offset) + ", " + std::to_string(t.offset + t.bytes()) +
                          ") but '" + bin_name + "' has " + std::to_string(size) + " bytes");
    }
    covered += t.bytes();
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Tensor* a, const Tensor* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const Tensor& a = *by_offset[i - 1];
    const Tensor& b = *by_offset[i];
    if (a.offset + a.bytes() > b.offset) {
      throw FileError(model.manifest, b.line,
                      "tensor '" + b.name + "' at byte " + std::to_string(b.offset) +
                          " overlaps tensor '" + a.name + "' (bytes [" + std::to_string(a.offset) +
                          ", " + std::to_string(a.offset + a.bytes()) + "))");
    }
  }
  if (covered != size) {
    throw FileError(bin_name, 0,
                    "has " + std::to_string(size) + " bytes but the tensors of '" + model.manifest +
                        "' cover " + std::to_string(covered) +
                        " (tensors are stored back to back, with no header or padding)");
  }
  for (Tensor& t : model.tensors) {
    const auto n = static_cast<std::size_t>(t.elements());
    std::vector<unsigned char> raw(n * sizeof(float));
    bin.seekg(t.offset);
    bin.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
    if (!bin) {
      throw FileError(bin_name, 0,
                      "read error in tensor '" + t.name + "' at byte " + std::to_string(t.offset));
    }
    t.data.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t bits = 0;
      for (int b = 3; b >= 0; --b) bits = (bits << 8) | raw[i * 4 + static_cast<std::size_t>(b)];
      t.data[i] = std::bit_cast<float>(bits);
      if (!std::isfinite(t.data[i])) {
        throw FileError(model.manifest, t.line,
                        "tensor '" + t.name + "' element " + std::to_string(i) +
                            " is not finite (" + std::to_string(t.data[i]) + ")");
      }
    }
  }
}

/// The blob that belongs to a manifest: same path with the extension `.bin`.
inline std::filesystem::path default_blob_path(const std::filesystem::path& manifest) {
  std::filesystem::path p = manifest;
  return p.replace_extension(".bin");
}

/// Loads and validates a model: the manifest at `manifest` and its blob
/// (`blob`, or default_blob_path(manifest)). Throws FileError.
inline Model load_model(const std::filesystem::path& manifest,
                        const std::optional<std::filesystem::path>& blob = std::nullopt) {
  std::ifstream text(manifest);
  if (!text) throw FileError(manifest.string(), 0, "cannot open the model manifest");
  Model model = parse_manifest(text, manifest.string());
  const std::filesystem::path bin_path = blob ? *blob : default_blob_path(manifest);
  std::ifstream bin(bin_path, std::ios::binary);
  if (!bin) throw FileError(bin_path.string(), 0, "cannot open the model's tensor file");
  load_tensor_data(model, bin, bin_path.string());
  return model;
}

}  // namespace sfc::examples
