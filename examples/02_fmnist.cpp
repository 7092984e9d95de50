// 02_fmnist: a real network through the convolution backends.
//
// fmnist_res3x3 is a small residual CNN trained on Fashion-MNIST (seven 3x3
// convolutions, two residual additions, two max-pools, global average pool,
// one fully connected layer; examples/data/FORMAT.md describes the files).
// This program loads it (examples/model/model.hpp), reads the Fashion-MNIST
// test images (examples/model/idx.hpp) and classifies them once per
// *variant*: a way of computing the convolutions, picked from a registry.
// Float variants: direct convolution, and the library's operator
// sfc::Conv2d<float, Alg> with each 3x3 algorithm (SFC-6(7x7,3x3),
// SFC-6(6x6,3x3), SFC-4(4x4,3x3), and Winograd F(2x2,3x3) / F(4x4,3x3) for
// comparison). int8 variants (examples/model/quantized.hpp), calibrated on
// the model's calibration images of the training set: direct-i8 (standard
// post-training quantization: per-tensor activations, per-channel weights)
// and, for each 3x3 algorithm and 8, 6 and 4 transform bits,
// sfc::QuantizedConv2d with frequency-wise max-abs scales ("<alg>-i<bits>"),
// with power-of-two scales fine-tuned on each layer's output
// ("<alg>-i<bits>-ft", the paper's scheme) and with free (any positive
// float) scales fine-tuned the same way ("<alg>-i<bits>-ftf"). 5x5 and 7x7
// layers run through SFC-6(6x6,5x5) and SFC-6(4x4,7x7).
//
// It prints the multiplications of every conv layer (direct and each fast
// algorithm; examples/model/cost.hpp), then a table (variant, bits, top-1,
// images, time, multiplications and BOPs per image) and one JSON line per
// variant, and checks every float variant against the reference file
// beside the model: the logits of test images 0..99 within 1e-3 (max
// absolute difference) and, when all 10,000 test images are classified,
// exactly the reference accuracy (9351/10000 for this model). It exits with
// 1 when a check fails, 2 on bad usage.
//
// Usage: 02_fmnist [--model MANIFEST] [--data DIR] [--images N]
//                  [--variants NAME,NAME,...|all] [--threads N] [--batch N] [--list]
//                  [--finetune-images N] [--finetune-holdout N] [--finetune-iterations N]
//                  [--finetune-sequential 0|1] [--bias-correction 0|1] [--split test|train]
//
// --images N classifies the first N images of the split (0, the default:
// all of them). --split train classifies the training images that are not
// calibration images instead of the test set: the data on which to choose
// quantization settings without looking at the test set (no reference
// checks; the model has seen these images, so compare drops from float,
// not accuracies).
//
// --threads caps the OpenMP threads of each convolution (0, the default, is
// OpenMP's default: all cores). Results do not depend on it. The layers of
// this model are small, so on a busy machine one thread can be faster than
// more threads than there are free cores. --finetune-images,
// --finetune-holdout and --finetune-iterations set the fine-tuning of the
// "-ft" and "-ftf" variants: how many of the calibration images each layer
// is tuned on, how many of the next ones choose the iterate kept (early
// stopping; sfc::quant::FinetuneOptions::holdout), and for how many
// iterations; --finetune-sequential 1 tunes the layers in order, each on
// the inputs the quantized layers before it produce, and
// --bias-correction 1 then removes each layer's mean output error from its
// bias (defaults: ex::QuantizedOptions).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/backends.hpp"
#include "model/calibration_set.hpp"
#include "model/cost.hpp"
#include "model/evaluate.hpp"
#include "model/idx.hpp"
#include "model/model.hpp"
#include "model/network.hpp"
#include "model/quantized.hpp"
#include "model/reference.hpp"

#ifndef SFC_EXAMPLES_DATA_DIR
#define SFC_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace {

namespace ex = sfc::examples;

/// Largest accepted |logit - reference logit| for a float variant.
constexpr double kLogitTolerance = 1e-3;

/// What a variant may use to build its network.
struct VariantContext {
  std::shared_ptr<const ex::Model> model;
  std::filesystem::path data_dir;  ///< the IDX files (training images for calibration)
  int threads = 0;                 ///< 0 = OpenMP's default
  /// Fine-tuning settings of the "-ft" and "-ftf" variants (their bits,
  /// finetune and power_of_two are the variant's own).
  ex::QuantizedOptions quantized;
  /// The int8 calibration (computed on first use, then shared).
  std::function<const ex::Calibration&()> calibration;
};

/// Scales: max-abs (tuning none), fine-tuned powers of two, or fine-tuned
/// free scales.
enum class Tuning { none, power_of_two, free };

/// Frequency-wise int8 with 3x3 algorithm Alg3 (5x5 and 7x7 layers use
/// SFC-6(6x6, 5x5) and SFC-6(4x4, 7x7)).
template <class Alg3>
ex::Network quantized_network(const VariantContext& c, int bits, Tuning tuning) {
  ex::QuantizedOptions q = c.quantized;
  q.bits = bits;
  q.finetune = tuning != Tuning::none;
  q.power_of_two = tuning == Tuning::power_of_two;
  q.threads = c.threads;
  return ex::Network(c.model,
                     ex::quantized_backend<Alg3, sfc::SFC<6, 6, 5>, sfc::SFC<6, 4, 7>>(c.calibration(), q));
}

/// One way of running the model.
struct Variant {
  std::string name;              ///< "<method>-<type>", e.g. "sfc6_7_3-f32"
  int bits = 32;                 ///< width of the convolution arithmetic
  bool reproduces_float = true;  ///< held to the float reference (logits and accuracy)
  std::string description;
  std::function<ex::Network(const VariantContext&)> build;
  std::optional<ex::Float3x3> alg3x3;  ///< empty: direct convolution
};

/// Operand widths of a variant's convolutions for its BOPs (metrics.hpp):
/// float everywhere for 32, else `bits`-wide products (the transform-domain
/// data and weights of the frequency-wise variants, the spatial int8 ones
/// of direct-i8), 16-bit data transforms, 32-bit accumulation.
sfc::quant::BitWidths widths_of(int bits) {
  if (bits == 32) return {.data = 32, .weight = 32, .transform = 32, .accumulator = 32, .coefficient = 32};
  return {.data = bits, .weight = bits};
}

/// The registry: every variant this program knows, in the order listed.
std::vector<Variant> variant_registry() {
  std::vector<Variant> v;
  v.push_back({"direct-f32", 32, true, "direct convolution, float accumulation",
               [](const VariantContext& c) {
                 return ex::Network(c.model, ex::direct_float_backend(c.threads));
               },
               std::nullopt});
  for (const ex::Float3x3 alg : ex::kFloat3x3Algorithms) {
    v.push_back({ex::to_string(alg) + "-f32", 32, true,
                 "sfc::Conv2d<float>: 3x3 " + ex::to_string(alg) + ", 5x5 sfc6_6_5, 7x7 sfc6_4_7",
                 [alg](const VariantContext& c) {
                   return ex::Network(c.model, ex::sfc_float_backend(alg, c.threads));
                 },
                 alg});
  }
  v.push_back({"direct-i8", 8, false,
               "int8 per-tensor activations, per-channel weights (exact int32 sums)",
               [](const VariantContext& c) {
                 return ex::Network(c.model,
                                    ex::direct_int8_backend<sfc::SFC<6, 7, 3>, sfc::SFC<6, 6, 5>, sfc::SFC<6, 4, 7>>(
                                        c.calibration(), c.threads));
               },
               std::nullopt});
  for (const int bits : {8, 6, 4}) {
    for (const ex::Float3x3 alg : ex::kFloat3x3Algorithms) {
      for (const Tuning tuning : {Tuning::none, Tuning::power_of_two, Tuning::free}) {
        const char* suffix = tuning == Tuning::none ? "" : tuning == Tuning::power_of_two ? "-ft" : "-ftf";
        const char* scales = tuning == Tuning::none           ? "max-abs scales"
                             : tuning == Tuning::power_of_two ? "power-of-two scales fine-tuned"
                                                              : "free scales fine-tuned";
        v.push_back({ex::to_string(alg) + "-i" + std::to_string(bits) + suffix, bits, false,
                     "int8 input, " + std::to_string(bits) + "-bit transform domain, frequency-wise " + scales,
                     [alg, bits, tuning](const VariantContext& c) {
                       return ex::visit_float3x3(alg, [&](auto tag) {
                         return quantized_network<typename decltype(tag)::type>(c, bits, tuning);
                       });
                     },
                     alg});
      }
    }
  }
  return v;
}

struct Options {
  std::filesystem::path model = std::filesystem::path(SFC_EXAMPLES_DATA_DIR) / "fmnist_res3x3.txt";
  std::filesystem::path data = ex::kFashionMnistDir;
  std::int64_t images = 0;  ///< 0: all of the split
  std::vector<std::string> variants;  // empty = all
  int threads = 0;
  int batch = 64;
  ex::QuantizedOptions quantized;  ///< the fine-tuning settings
  bool train = false;  ///< classify the training images (not the calibration ones) instead of the test set
  bool list = false;
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::fprintf(stderr, "02_fmnist: %s\n", problem.c_str());
  std::fprintf(stderr,
               "usage: 02_fmnist [--model MANIFEST] [--data DIR] [--images N]\n"
               "                 [--variants NAME,NAME,...|all] [--threads N] [--batch N] "
               "[--list]\n"
               "                 [--finetune-images N] [--finetune-holdout N] [--finetune-iterations N]\n"
               "                 [--finetune-sequential 0|1] [--bias-correction 0|1] [--split test|train]\n");
  std::exit(2);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) parts.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    const auto number = [&](long long lo, long long hi) {
      const std::string v = value();
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < lo || n > hi) {
        usage(a + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
              "], got '" + v + "'");
      }
      return n;
    };
    if (a == "--model") {
      o.model = value();
    } else if (a == "--data") {
      o.data = value();
    } else if (a == "--images") {
      o.images = number(1, 1'000'000'000);
    } else if (a == "--variants") {
      const std::string v = value();
      o.variants = v == "all" ? std::vector<std::string>{} : split_commas(v);
      if (v != "all" && o.variants.empty()) usage("--variants needs at least one name");
    } else if (a == "--threads") {
      o.threads = static_cast<int>(number(0, 4096));
    } else if (a == "--batch") {
      o.batch = static_cast<int>(number(1, 65536));
    } else if (a == "--finetune-images") {
      o.quantized.finetune_images = static_cast<int>(number(1, 1'000'000));
    } else if (a == "--finetune-holdout") {
      o.quantized.finetune_holdout = static_cast<int>(number(0, 1'000'000));
    } else if (a == "--finetune-iterations") {
      o.quantized.finetune_iterations = static_cast<int>(number(0, 1'000'000));
    } else if (a == "--finetune-sequential") {
      o.quantized.sequential = number(0, 1) == 1;
    } else if (a == "--bias-correction") {
      o.quantized.bias_correction = number(0, 1) == 1;
    } else if (a == "--split") {
      const std::string v = value();
      if (v != "test" && v != "train") usage("--split must be test or train, got '" + v + "'");
      o.train = v == "train";
    } else if (a == "--list") {
      o.list = true;
    } else {
      usage("unknown argument '" + a + "'");
    }
  }
  return o;
}

struct Row {
  const Variant* variant = nullptr;
  ex::Evaluation eval;
  std::optional<double> max_diff;  // against the reference logits
  std::int64_t compared = 0;       // images compared with the reference
  std::int64_t same_class = 0;     // of those, argmax equal to the reference's
  std::string backends;            // per-layer backend names, condensed
  sfc::quant::LayerCost cost;      // of the convolutions, per image
};

/// Multiplications of every conv layer per image: direct and each 3x3
/// algorithm (5x5 and 7x7 layers with their SFC algorithm), in millions.
void print_layer_costs(const ex::Model& model) {
  const std::vector<sfc::Conv2dShape> shapes = ex::conv_shapes(model);
  std::printf("\nmultiplications per image (millions; fast: / reduction vs direct):\n");
  std::printf("%-5s %-20s %8s", "conv", "Cin->Cout @ HxW, k", "direct");
  for (const ex::Float3x3 alg : ex::kFloat3x3Algorithms) std::printf(" %12s", ex::to_string(alg).c_str());
  std::printf("\n");
  const sfc::quant::BitWidths bits{};
  const auto row = [&](const std::string& label, const std::string& what, auto&& cost_of) {
    const double direct = static_cast<double>(cost_of(std::optional<ex::Float3x3>{}).multiplications);
    std::printf("%-5s %-20s %8.3f", label.c_str(), what.c_str(), direct / 1e6);
    for (const ex::Float3x3 alg : ex::kFloat3x3Algorithms) {
      const double m = static_cast<double>(cost_of(std::optional(alg)).multiplications);
      std::printf(" %6.3f/%4.2fx", m / 1e6, direct / m);
    }
    std::printf("\n");
  };
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const sfc::Conv2dShape& s = shapes[i];
    const std::string what = std::to_string(s.in_channels) + "->" + std::to_string(s.out_channels) + " @ " +
                             std::to_string(s.height) + "x" + std::to_string(s.width) + ", " +
                             std::to_string(s.kernel_h);
    row(std::to_string(i + 1), what, [&](std::optional<ex::Float3x3> alg) { return ex::layer_cost(s, alg, bits); });
  }
  row("all", "", [&](std::optional<ex::Float3x3> alg) { return ex::model_cost(model, alg, bits); });
}

/// "sfc6_7_3 x7" or "sfc6_7_3 x6, direct x1": the backends in layer order.
std::string describe_backends(const ex::Network& net) {
  std::vector<std::pair<std::string, int>> counts;
  for (std::size_t i = 0; i < net.conv_layers().size(); ++i) {
    const std::string name = net.backend(i).name();
    if (!counts.empty() && counts.back().first == name) {
      ++counts.back().second;
    } else {
      counts.emplace_back(name, 1);
    }
  }
  std::string s;
  for (const auto& [name, n] : counts)
    s += (s.empty() ? "" : ", ") + name + " x" + std::to_string(n);
  return s;
}

int run(const Options& o) {
  const std::vector<Variant> registry = variant_registry();
  if (o.list) {
    for (const Variant& v : registry)
      std::printf("%-16s %2d bits  %s\n", v.name.c_str(), v.bits, v.description.c_str());
    return 0;
  }
  std::vector<const Variant*> chosen;
  if (o.variants.empty()) {
    for (const Variant& v : registry) chosen.push_back(&v);
  } else {
    for (const std::string& name : o.variants) {
      const auto it = std::find_if(registry.begin(), registry.end(),
                                   [&](const Variant& v) { return v.name == name; });
      if (it == registry.end()) usage("unknown variant '" + name + "' (--list shows them)");
      chosen.push_back(&*it);
    }
  }

  const auto model = std::make_shared<const ex::Model>(ex::load_model(o.model));
  const ex::LabeledImages test =
      o.train ? ex::training_images(o.model, ex::load_fashion_mnist(o.data, ex::Split::train))
              : ex::load_fashion_mnist(o.data, ex::Split::test);
  const char* set_name = o.train ? "training (not calibration)" : "test";
  ex::check_data_fits(*model, test);
  const std::int64_t images = o.images == 0 ? test.images.count : o.images;
  if (images > test.images.count) {
    usage("--images " + std::to_string(o.images) + " but the " + set_name + " set has " +
          std::to_string(test.images.count));
  }
  std::optional<ex::ReferenceLogits> ref;
  const std::filesystem::path ref_path = ex::default_reference_path(o.model);
  if (o.train) {
    std::printf("training split: the training images that are not calibration images; no reference checks\n");
  } else if (std::filesystem::exists(ref_path)) {
    ref = ex::load_reference(ref_path, model->classes);
    for (std::size_t i = 0; i < ref->rows() && i < test.labels.size(); ++i) {
      if (ref->labels[i] != test.labels[i]) {
        std::printf(
            "FAILED: test image %zu has label %d in '%s' but %d in the reference file; "
            "is this the right data set?\n",
            i, int{test.labels[i]}, o.data.string().c_str(), ref->labels[i]);
        return 1;
      }
    }
  }

  std::printf("model %s (%s): %zu ops, %zu convolutions, %lld parameters, %.1f M MACs per image\n",
              model->name.c_str(), o.model.string().c_str(), model->ops.size(),
              static_cast<std::size_t>(
                  std::count_if(model->ops.begin(), model->ops.end(),
                                [](const ex::Op& op) { return op.kind == ex::OpKind::conv; })),
              static_cast<long long>(model->parameters()), model->macs_per_image() / 1e6);
  std::printf("data: %lld of %lld %s images from %s, batches of %d, threads %d (0 = all)\n",
              static_cast<long long>(images), static_cast<long long>(test.images.count), set_name,
              o.data.string().c_str(), o.batch, o.threads);
  if (ref) {
    std::printf("reference: %s (logits of %zu images", ref_path.string().c_str(), ref->rows());
    if (ref->accuracy) {
      std::printf(", accuracy %lld/%lld", static_cast<long long>(ref->accuracy->correct),
                  static_cast<long long>(ref->accuracy->total));
    }
    std::printf(")\n");
  } else if (!o.train) {
    std::printf("reference: none (%s not found); nothing to check against\n",
                ref_path.string().c_str());
  }

  std::optional<ex::Calibration> calibration;
  const VariantContext context{model, o.data, o.threads, o.quantized, [&]() -> const ex::Calibration& {
                                 if (!calibration) {
                                   const ex::LabeledImages train = ex::load_fashion_mnist(o.data, ex::Split::train);
                                   const int count = static_cast<int>(ex::calibration_indices(o.model, train).size());
                                   calibration = ex::calibrate(model, ex::calibration_images(o.model, train), count,
                                                               o.threads);
                                 }
                                 return *calibration;
                               }};
  print_layer_costs(*model);
  std::printf("\n");

  std::vector<Row> rows;
  bool failed = false;
  for (const Variant* v : chosen) {
    ex::Network net = v->build(context);
    Row row;
    row.variant = v;
    row.backends = describe_backends(net);
    row.eval = ex::evaluate(net, test, images, o.batch);
    row.cost = ex::model_cost(*model, v->alg3x3, widths_of(v->bits));
    if (ref) {
      row.compared = std::min<std::int64_t>(images, static_cast<std::int64_t>(ref->rows()));
      row.max_diff = ex::max_abs_diff(row.eval, *ref);
      for (std::int64_t i = 0; i < row.compared; ++i)
        if (ex::argmax(row.eval.row(i)) == ref->predicted[static_cast<std::size_t>(i)])
          ++row.same_class;
    }
    std::printf("  %-16s top-1 %6.2f%%  %7.2f s  %s\n", v->name.c_str(), 100.0 * row.eval.top1(),
                row.eval.seconds, row.backends.c_str());
    if (v->reproduces_float && ref) {
      if (!(*row.max_diff <= kLogitTolerance)) {
        std::printf(
            "FAILED: %s: logits of images 0..%lld differ from the reference by up to %.3g "
            "(tolerance %.0e)\n",
            v->name.c_str(), static_cast<long long>(row.compared - 1), *row.max_diff,
            kLogitTolerance);
        failed = true;
      }
      if (ref->accuracy && images == ref->accuracy->total &&
          row.eval.correct != ref->accuracy->correct) {
        std::printf("FAILED: %s: %lld/%lld correct, the reference has %lld/%lld\n", v->name.c_str(),
                    static_cast<long long>(row.eval.correct),
                    static_cast<long long>(row.eval.images),
                    static_cast<long long>(ref->accuracy->correct),
                    static_cast<long long>(ref->accuracy->total));
        failed = true;
      }
    }
    rows.push_back(std::move(row));
  }

  std::printf("\n%-16s %4s %8s %13s %15s %9s %9s %9s %9s\n", "variant", "bits", "top-1", "correct",
              "ref max|diff|", "time s", "images/s", "M mults", "G BOPs");
  for (const Row& r : rows) {
    char diff[32] = "-";
    if (r.max_diff) std::snprintf(diff, sizeof diff, "%.2e", *r.max_diff);
    const std::string correct =
        std::to_string(r.eval.correct) + "/" + std::to_string(r.eval.images);
    std::printf("%-16s %4d %7.2f%% %13s %15s %9.2f %9.0f %9.3f %9.3f\n", r.variant->name.c_str(),
                r.variant->bits, 100.0 * r.eval.top1(), correct.c_str(), diff, r.eval.seconds,
                static_cast<double>(r.eval.images) / std::max(r.eval.seconds, 1e-9),
                static_cast<double>(r.cost.multiplications) / 1e6, r.cost.bops / 1e9);
  }
  if (ref) {
    std::printf("ref max|diff|: largest |logit - reference logit| over test images 0..%lld.\n",
                static_cast<long long>(
                    std::min<std::int64_t>(images, static_cast<std::int64_t>(ref->rows())) - 1));
    if (ref->accuracy && images != ref->accuracy->total) {
      std::printf("(the accuracy is checked against the reference only on all %lld test images)\n",
                  static_cast<long long>(ref->accuracy->total));
    }
  }
  std::printf("\n");
  for (const Row& r : rows) {
    std::printf(
        "{\"variant\": \"%s\", \"bits\": %d, \"top1\": %.4f, \"images\": %lld, "
        "\"correct\": %lld, \"seconds\": %.3f, \"mults_per_image\": %lld, \"bops_per_image\": %.6g",
        r.variant->name.c_str(), r.variant->bits, r.eval.top1(),
        static_cast<long long>(r.eval.images), static_cast<long long>(r.eval.correct),
        r.eval.seconds, static_cast<long long>(r.cost.multiplications), r.cost.bops);
    if (r.max_diff) {
      if (std::isfinite(*r.max_diff)) {
        std::printf(", \"ref_max_abs_diff\": %.3e", *r.max_diff);
      } else {
        std::printf(", \"ref_max_abs_diff\": null");
      }
    }
    std::printf("}\n");
  }
  if (failed) {
    std::printf("FAILED: a check did not hold\n");
    return 1;
  }
  std::printf("all checks passed\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "02_fmnist: %s\n", e.what());
    return 1;
  }
}
