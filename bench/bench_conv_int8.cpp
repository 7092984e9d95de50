// int8 2D convolution: SFC's exact and quantized operators against their
// baselines, in one binary so that every ratio comes from one run on one
// machine. The int8 counterpart of bench_conv_f32.cpp (same layers, threads,
// structure and counters).
//
// Benchmark names:  conv_int8/<impl>/<layer>/b<batch>/t<threads>[/real_time]
//   impl    naive                sfc::reference::conv2d_direct, int8 overload
//           onednn_direct        oneDNN convolution_direct, u8 x s8 -> s32
//           onednn_wino          oneDNN convolution_winograd, u8 x s8 -> s32
//                                (3x3 layers; skipped where oneDNN has none)
//           sfc6_7_3_exact ...   sfc::Conv2d<std::int8_t, Alg>: int8 x int8 ->
//                                int32, bit-exact; named by Alg::name()
//           sfc6_7_3_exact_nhwc  the same with NHWC input and output
//           ..._nhwc_transformed the same with WeightPath::transformed
//           ..._nhwc_fly         the same with WeightPath::on_the_fly
//                                (skipped where its products are not int32)
//           sfc6_7_3_q8 ...      sfc::QuantizedConv2d<Alg> (frequency-wise
//           wino4_3_q8 ...       quantized transform domain): int8 -> float
//           sfc6_7_3_q8_nhwc     the same with NHWC input and output
//           sfc6_7_3_q8_i8out    int8 output requantized by the operator
//           ..._nhwc_avx2        SFC-6(7x7, 3x3) NHWC on the AVX2 kernels,
//                                against oneDNN at DNNL_MAX_CPU_ISA=AVX2
//           ..._q8_nhwc_amx      SFC-6(7x7) and SFC-4 quantized NHWC with the
//                                GEMM on AMX tiles (builds with AMX), against
//                                oneDNN at its default ISA (AMX); the other
//                                entries run AVX-512 VNNI
//   layer   <net>_k<kernel>_c<channels>_<size>, rows of kLayers below (the
//           rows of bench_conv_f32).
// Every entry runs stride 1, zero padding, OIHW weights, NCHW activations
// (unless _nhwc), with a bias, on fixed pseudo-random data: input in
// [-128, 127], weights in [-64, 63] (s7; see kInt8WeightMagnitude in
// baselines_int8.hpp: oneDNN is exact on ISAs without VNNI only then), bias
// in [-2^16, 2^16). oneDNN takes the input as u8 = input + 128 and is checked
// against the reference on that u8 data (zero point 0, zero padding).
// The quantized operator takes the same values as reals: input step
// 2^-7, float weights = int8 weights * 2^-8, float bias = int32 bias * 2^-15;
// its data scales are calibrated on the benchmark's own input
// (observe_max_abs, one per slot: max_abs * input step / 127), its weight
// scales are the defaults (per slot and output channel).
//
// Reported: real time per convolution (ms), and counters GFLOP/s (2 *
// Conv2dShape::direct_macs() integer operations per second, whatever the
// algorithm really computes; the key keeps the f32 benchmark's name for
// scripts/plot_bench.py), batch, Cin, Cout, H, W, K, threads, and
// max_rel_err: max |out - ref| / max |ref| against the exact reference (in
// real units for the quantized entries), measured once; 0 = bit-exact.
//
// Not timed: reference outputs, weight transforms and reorders, calibration,
// oneDNN primitive creation and the reorders to and from oneDNN's layouts,
// buffer allocation, one warm-up run (not for naive). Timed: the
// convolution alone.
//
// Correctness: before timing, each entry's output is compared with the
// reference. naive, onednn_direct and the _exact entries must be bit-exact;
// onednn_wino (oneDNN quantizes the Winograd domain) and the _q8 entries
// are approximate: their max_rel_err is reported, and only an error above
// kQuantizedTolerance (0.5: a broken setup, not rounding) skips them. On
// this data wino4_3_q8 reaches 0.2-0.3 (Winograd F(4x4, 3x3)'s transforms
// amplify the 8-bit rounding) and onednn_wino 0.02-0.14; SFC's stay about
// 0.015-0.025. An exact baseline
// (naive, onednn_direct) that fails stops the program with a message; any
// other entry that fails is skipped with the error as its message (so is
// onednn_wino where oneDNN has no int8 Winograd, e.g. below AVX-512).
//
// Run time: the default --benchmark_min_time is 0.2 s here (not Google
// Benchmark's 0.5 s); pass the flag to change it. naive runs only where
// batch = 1 and the layer has at most 2e8 MACs, on one thread and for one
// iteration per repetition. Examples:
//   bench_conv_int8 --benchmark_filter='resnet18_k3_c256_14/b1/'
//   bench_conv_int8 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//                   --benchmark_out=conv_int8.json --benchmark_out_format=json
//   python3 scripts/plot_bench.py conv_int8.json --png conv_int8.png
//   DNNL_MAX_CPU_ISA=AVX512_CORE_VNNI bench_conv_int8 ...  (oneDNN with VNNI, no AMX)
//   DNNL_MAX_CPU_ISA=AVX512_CORE bench_conv_int8 ...  (AVX-512 without VNNI)
//   DNNL_MAX_CPU_ISA=AVX2 bench_conv_int8 ...   (oneDNN without AVX-512 or VNNI:
//                                                no int8 Winograd there)

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baselines_int8.hpp"

#if __has_include(<sfc/layers/conv2d_int8.hpp>) && !defined(SFC_BENCH_WITHOUT_OPERATOR)
#include <sfc/layers/conv2d_int8.hpp>
#include <sfc/transforms/sfc.hpp>
#define SFC_BENCH_HAVE_OPERATOR 1
#endif
#if __has_include(<sfc/layers/conv2d_quantized.hpp>) && !defined(SFC_BENCH_WITHOUT_OPERATOR)
#include <sfc/layers/conv2d_quantized.hpp>
#include <sfc/transforms/sfc.hpp>
#include <sfc/transforms/winograd.hpp>
#define SFC_BENCH_HAVE_QUANTIZED 1
#endif

namespace {

using sfc_bench::Comparison;
using sfc_bench::Int8Problem;
using sfc_bench::to_size;
using Problem = Int8Problem;

// ---------------------------------------------------------------------------
// Layers: bench_conv_f32's table. Square images, Cin = Cout, "same" padding
// (kernel / 2). Each row runs at each of its batches and at 1 and 2 threads.
// naive (one thread) runs on the batch-1 rows of at most kNaiveMaxMacs.
// ---------------------------------------------------------------------------

struct Layer {
  const char* name;
  std::int64_t channels;  // in = out
  std::int64_t size;      // H = W
  std::int64_t kernel;    // R = S
  std::vector<std::int64_t> batches;
};

const std::vector<Layer>& layers() {
  static const std::vector<Layer> table = {
      //  layer                  C     H=W  k   batches   where it comes from
      {"resnet18_k3_c64_56",     64,   56,  3,  {1, 8}},  // ResNet-18 conv2_x
      {"resnet18_k3_c128_28",   128,   28,  3,  {1, 8}},  // ResNet-18 conv3_x
      {"resnet18_k3_c256_14",   256,   14,  3,  {1, 8}},  // ResNet-18 conv4_x
      {"resnet18_k3_c512_7",    512,    7,  3,  {1, 8}},  // ResNet-18 conv5_x
      {"vgg16_k3_c128_112",     128,  112,  3,  {1}},     // VGG-16 conv2_2
      {"vgg16_k3_c256_56",      256,   56,  3,  {1}},     // VGG-16 conv3_2, conv3_3
      {"vgg16_k3_c512_28",      512,   28,  3,  {1}},     // VGG-16 conv4_2, conv4_3
      {"vgg16_k3_c512_14",      512,   14,  3,  {1}},     // VGG-16 conv5_1..conv5_3
      {"generic_k5_c64_28",      64,   28,  5,  {1}},     // 5x5 at a mid-network size
      {"generic_k7_c64_28",      64,   28,  7,  {1}},     // 7x7 at a mid-network size
  };
  return table;
}

constexpr int kThreadCounts[] = {1, 2};

/// naive runs only on layers at most this big (and batch 1, one thread).
constexpr std::int64_t kNaiveMaxMacs = 200'000'000;

/// Largest max_rel_err of the approximate entries (onednn_wino, _q8):
/// beyond it the setup is broken (their accuracy is reported, not judged).
constexpr double kQuantizedTolerance = 0.5;

/// Real value of one step of the exact int32 output (input step * weight
/// step): the quantized operator's float output approximates this times the
/// reference.
constexpr double kOutputStep =
    static_cast<double>(sfc_bench::kInt8InputStep) * sfc_bench::kInt8WeightStep;

sfc::Conv2dShape shape_of(const Layer& layer, std::int64_t batch) {
  return sfc::Conv2dShape::square(batch, layer.channels, layer.channels, layer.size, layer.kernel,
                                  layer.kernel / 2);
}

// ---------------------------------------------------------------------------
// Runners: one configured convolution, ready to run on its problem's input.
// ---------------------------------------------------------------------------

class Runner {
 public:
  virtual ~Runner() = default;
  /// One convolution (the timed part).
  virtual void run() = 0;
  /// The last run's output against its reference (not timed).
  virtual Comparison compare(Problem& p) = 0;
  /// What actually runs, for the benchmark label.
  virtual std::string label() const = 0;
  /// Whether to run once, untimed, before timing.
  virtual bool warm_up() const { return true; }
};

using RunnerFactory = std::function<std::unique_ptr<Runner>(Problem&, int threads)>;

/// int32 output, NCHW or NHWC, against the int8 reference, bit for bit.
Comparison compare_s32(Problem& p, const std::vector<std::int32_t>& out, sfc::Layout layout) {
  if (layout == sfc::Layout::NCHW) {
    return sfc_bench::compare_exact(out, p.reference_s8());
  }
  const sfc::Conv2dShape& s = p.shape;
  return sfc_bench::compare_exact(
      sfc_bench::to_nchw(std::span<const std::int32_t>(out), s.batch, s.out_channels,
                         s.output_height(), s.output_width()),
      p.reference_s8());
}

#if defined(SFC_BENCH_HAVE_QUANTIZED)
/// Real-valued output, NCHW or NHWC, against kOutputStep * the int8 reference.
Comparison compare_real(Problem& p, const std::vector<float>& out, sfc::Layout layout) {
  Comparison c;
  if (layout == sfc::Layout::NCHW) {
    c.max_rel_err = sfc_bench::max_relative_error(out, p.reference_s8(), kOutputStep);
    return c;
  }
  const sfc::Conv2dShape& s = p.shape;
  c.max_rel_err = sfc_bench::max_relative_error(
      sfc_bench::to_nchw(std::span<const float>(out), s.batch, s.out_channels, s.output_height(),
                         s.output_width()),
      p.reference_s8(), kOutputStep);
  return c;
}
#endif

class NaiveRunner final : public Runner {
 public:
  explicit NaiveRunner(Problem& p) : p_(p), out_(to_size(p.shape.output_elements())) {}
  void run() override {
    sfc::reference::conv2d_direct(
        p_.shape, std::span<const std::int8_t>(p_.input), std::span<const std::int8_t>(p_.weights),
        std::span<const std::int32_t>(p_.bias), std::span<std::int32_t>(out_));
  }
  Comparison compare(Problem& p) override { return compare_s32(p, out_, sfc::Layout::NCHW); }
  std::string label() const override {
    return "sfc::reference::conv2d_direct int8 (int64 accumulation), 1 thread";
  }
  bool warm_up() const override { return false; }  // 0.1-0.3 s a call; caches don't matter

 private:
  Problem& p_;
  std::vector<std::int32_t> out_;
};

#if defined(SFC_BENCH_HAVE_ONEDNN)
class OnednnRunner final : public Runner {
 public:
  OnednnRunner(Problem& p, dnnl::algorithm algorithm)
      : shape_(p.shape), conv_(p.shape, p.weights, p.bias, algorithm) {
    conv_.load_input(p.input_u8);
  }
  void run() override { conv_.run(); }
  Comparison compare(Problem& p) override {
    std::vector<std::int32_t> out(to_size(shape_.output_elements()));
    conv_.store_output(out);
    return sfc_bench::compare_exact(out, p.reference_u8());
  }
  std::string label() const override {
    return "oneDNN " + conv_.impl_info() + " u8s8s32, " + conv_.bias_type() + " bias";
  }

 private:
  sfc::Conv2dShape shape_;
  sfc_bench::OnednnInt8Conv conv_;
};
#endif

#if defined(SFC_BENCH_HAVE_OPERATOR) || defined(SFC_BENCH_HAVE_QUANTIZED)
/// Input of an SFC entry in `layout` (the problem's, converted for NHWC).
std::vector<std::int8_t> input_in(const Problem& p, sfc::Layout layout) {
  if (layout == sfc::Layout::NCHW) {
    return p.input;
  }
  return sfc_bench::to_nhwc(std::span<const std::int8_t>(p.input), p.shape.batch,
                            p.shape.in_channels, p.shape.height, p.shape.width);
}

sfc::ConvOptions conv_options(sfc::Layout layout) {
  sfc::ConvOptions options;  // fields set by name: independent of their order
  options.input_layout = layout;
  options.output_layout = layout;
  options.relu = false;
  return options;
}
#endif

#if defined(SFC_BENCH_HAVE_OPERATOR)
/// sfc::Conv2d<std::int8_t, Alg>: exact int32 output.
template <class Alg, class Target = sfc::simd::Native>
class SfcExactRunner final : public Runner {
 public:
  using Conv = sfc::Conv2d<std::int8_t, Alg, Target>;

  SfcExactRunner(Problem& p, int threads, sfc::Layout layout, sfc::WeightPath path)
      : layout_(layout),
        path_(path),
        conv_(make_conv(p, layout, path)),
        input_(input_in(p, layout)),
        output_(to_size(p.shape.output_elements())) {
    run_options_.threads = threads;
  }
  void run() override {
    conv_.run(std::span<const std::int8_t>(input_), std::span<std::int32_t>(output_), run_options_);
  }
  Comparison compare(Problem& p) override { return compare_s32(p, output_, layout_); }
  std::string label() const override {
    return "sfc::Conv2d<int8> " + Alg::display_name() + " " + std::string(sfc::to_string(layout_)) +
           ", " + Target::name +
           (path_ == sfc::WeightPath::automatic     ? ""
            : path_ == sfc::WeightPath::transformed ? ", weights transformed"
                                                    : ", weights on the fly");
  }

 private:
  static Conv make_conv(const Problem& p, sfc::Layout layout, sfc::WeightPath path) {
    if (!Conv::target::supports_int8()) {
      throw std::runtime_error("this CPU lacks the int8 kernels of the compiled SIMD target");
    }
    sfc::ConvOptions options = conv_options(layout);
    options.weight_path = path;
    return Conv(p.shape, std::span<const std::int8_t>(p.weights),
                std::span<const std::int32_t>(p.bias), options);
  }

  sfc::Layout layout_;
  sfc::WeightPath path_;
  Conv conv_;
  std::vector<std::int8_t> input_;
  std::vector<std::int32_t> output_;
  sfc::RunOptions run_options_;
};

template <class Alg, class Target = sfc::simd::Native>
RunnerFactory sfc_exact_factory(sfc::Layout layout,
                                sfc::WeightPath path = sfc::WeightPath::automatic) {
  return [layout, path](Problem& p, int threads) -> std::unique_ptr<Runner> {
    return std::make_unique<SfcExactRunner<Alg, Target>>(p, threads, layout, path);
  };
}
#endif

#if defined(SFC_BENCH_HAVE_QUANTIZED)
/// sfc::QuantizedConv2d<Alg>: float output, or int8 output requantized with
/// a scale of max |reference output| / 127 (in real units).
template <class Alg, class Target = sfc::simd::Native>
class SfcQuantizedRunner final : public Runner {
 public:
  using Conv = sfc::QuantizedConv2d<Alg, Target>;

  SfcQuantizedRunner(Problem& p, int threads, sfc::Layout layout, bool int8_output)
      : layout_(layout),
        int8_output_(int8_output),
        input_(input_in(p, layout)),
        conv_(make_conv(p, input_, layout)),
        output_(int8_output ? 0 : to_size(p.shape.output_elements())),
        output_s8_(int8_output ? to_size(p.shape.output_elements()) : 0),
        output_scale_(int8_output ? output_scale_for(p) : 1.0f) {
    run_options_.threads = threads;
  }
  void run() override {
    if (int8_output_) {
      conv_.run(std::span<const std::int8_t>(input_), std::span<std::int8_t>(output_s8_),
                output_scale_, run_options_);
    } else {
      conv_.run(std::span<const std::int8_t>(input_), std::span<float>(output_), run_options_);
    }
  }
  Comparison compare(Problem& p) override {
    if (!int8_output_) {
      return compare_real(p, output_, layout_);
    }
    std::vector<float> real(output_s8_.size());
    for (std::size_t i = 0; i < real.size(); ++i) {
      real[i] = static_cast<float>(output_s8_[i]) * output_scale_;
    }
    return compare_real(p, real, layout_);
  }
  std::string label() const override {
    return "sfc::QuantizedConv2d " + Alg::display_name() + " " +
           std::string(sfc::to_string(layout_)) + (int8_output_ ? ", int8 out, " : ", float out, ") +
           Target::name;
  }

 private:
  static Conv make_conv(const Problem& p, const std::vector<std::int8_t>& input,
                        sfc::Layout layout) {
    if (!Conv::target::supports_q8()) {
      throw std::runtime_error("this CPU lacks the quantized kernels of the compiled SIMD target");
    }
    if constexpr (requires { Conv::target::using_tiles(); }) {
      if (!Conv::target::using_tiles()) {
        throw std::runtime_error("AMX tiles are not available to this process (CPU or system)");
      }
    }
    sfc::QuantizationParams params;
    params.input_scale = sfc_bench::kInt8InputStep;
    // Calibrated on this very input: per slot, max |transformed value|.
    const std::vector<std::int32_t> max_abs =
        Conv::observe_max_abs(p.shape, std::span<const std::int8_t>(input), layout);
    const int qmax = (1 << (params.data_bits - 1)) - 1;
    for (const std::int32_t m : max_abs) {
      params.data_scales.push_back(static_cast<float>(std::max(m, 1)) * params.input_scale /
                                   static_cast<float>(qmax));
    }
    return Conv(p.shape, std::span<const float>(p.weights_f32), std::span<const float>(p.bias_f32),
                params, conv_options(layout));
  }
  static float output_scale_for(Problem& p) {
    std::int64_t max_abs = 1;
    for (const std::int32_t y : p.reference_s8()) {
      max_abs = std::max<std::int64_t>(max_abs, y < 0 ? -std::int64_t{y} : y);
    }
    return static_cast<float>(static_cast<double>(max_abs) * kOutputStep / 127.0);
  }

  sfc::Layout layout_;
  bool int8_output_;
  std::vector<std::int8_t> input_;
  Conv conv_;
  std::vector<float> output_;
  std::vector<std::int8_t> output_s8_;
  float output_scale_;
  sfc::RunOptions run_options_;
};

template <class Alg, class Target = sfc::simd::Native>
RunnerFactory sfc_quantized_factory(sfc::Layout layout, bool int8_output = false) {
  return [layout, int8_output](Problem& p, int threads) -> std::unique_ptr<Runner> {
    return std::make_unique<SfcQuantizedRunner<Alg, Target>>(p, threads, layout, int8_output);
  };
}
#endif

// ---------------------------------------------------------------------------
// Shared state. Google Benchmark calls a benchmark function once per
// iteration-count trial and once per repetition; the expensive setup is kept
// between those calls. Problems (data + reference outputs) stay for the whole
// run; only the runner of the current benchmark is kept.
// ---------------------------------------------------------------------------

Problem& problem_for(const sfc::Conv2dShape& shape) {
  static std::map<std::string, std::unique_ptr<Problem>> problems;
  auto& slot = problems[shape.to_string()];
  if (!slot) {
    slot = std::make_unique<Problem>(shape);
  }
  return *slot;
}

/// How an entry's output must match its reference.
enum class Check {
  exact,        // bit for bit
  approximate,  // max_rel_err <= kQuantizedTolerance
};

struct Entry {
  std::string name;  // full benchmark name
  std::string impl;
  sfc::Conv2dShape shape;
  int threads = 1;
  bool baseline = true;  // failing the check stops the program (else: skip the entry)
  Check check = Check::exact;
  RunnerFactory make;
  std::string note;  // appended to a failed check's message
};

struct Current {
  std::string name;
  std::unique_ptr<Runner> runner;
  std::string error;  // non-empty: the runner could not be made or is wrong
  double max_rel_err = 0.0;
};

/// Why `c` fails `check`, or "" when it passes.
std::string check_failure(const Comparison& c, Check check) {
  if (check == Check::exact) {
    if (c.mismatches == 0) {
      return "";
    }
    return std::to_string(c.mismatches) + " outputs differ from " +
           "sfc::reference::conv2d_direct (first at NCHW index " +
           std::to_string(c.first_mismatch) + ", max relative error " +
           std::to_string(c.max_rel_err) + "); bit-exact expected";
  }
  if (c.max_rel_err <= kQuantizedTolerance) {
    return "";
  }
  return "max relative error " + std::to_string(c.max_rel_err) +
         " against sfc::reference::conv2d_direct exceeds " + std::to_string(kQuantizedTolerance);
}

Current& current_for(const Entry& e, Problem& problem) {
  static Current current;
  if (current.name == e.name) {
    return current;
  }
  current.runner.reset();  // free the previous one before building the next
  current.name = e.name;
  current.error.clear();
  current.max_rel_err = 0.0;
  std::string failure;
  try {
    current.runner = e.make(problem, e.threads);
    current.runner->run();
    const Comparison c = current.runner->compare(problem);
    current.max_rel_err = c.max_rel_err;
    failure = check_failure(c, e.check);
  } catch (const std::exception& ex) {
    current.runner.reset();
    current.error = std::string(ex.what()) + " [" + e.shape.to_string() + "]";
    return current;
  }
  if (!failure.empty()) {
    const std::string message = e.name + ": " + failure + (e.note.empty() ? "" : "; " + e.note) +
                                " (" + e.shape.to_string() + ")";
    if (e.baseline) {
      std::fprintf(stderr, "bench_conv_int8: wrong baseline, stopping. %s\n", message.c_str());
      std::exit(EXIT_FAILURE);
    }
    current.runner.reset();
    current.error = message;
  }
  return current;
}

void run_entry(benchmark::State& state, const Entry& e) {
  sfc_bench::set_threads(e.threads);
  Problem& problem = problem_for(e.shape);
  Current& current = current_for(e, problem);
  if (!current.runner) {
    state.SkipWithError(current.error.c_str());
    return;
  }
  Runner& runner = *current.runner;
  if (runner.warm_up()) {
    runner.run();  // caches, page faults, thread pool start-up
  }
  for (auto _ : state) {
    runner.run();
  }

  const auto& s = e.shape;
  const double gflop = 2.0 * static_cast<double>(s.direct_macs()) * 1e-9;
  state.counters["GFLOP/s"] = benchmark::Counter(gflop * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.counters["batch"] = static_cast<double>(s.batch);
  state.counters["Cin"] = static_cast<double>(s.in_channels);
  state.counters["Cout"] = static_cast<double>(s.out_channels);
  state.counters["H"] = static_cast<double>(s.height);
  state.counters["W"] = static_cast<double>(s.width);
  state.counters["K"] = static_cast<double>(s.kernel_h);
  state.counters["threads"] = static_cast<double>(e.threads);
  state.counters["max_rel_err"] = current.max_rel_err;
  state.SetLabel(runner.label());
}

// ---------------------------------------------------------------------------
// Registration: layer, batch, threads, then implementation, so that each
// problem's references are computed once and consecutive benchmarks share
// them.
// ---------------------------------------------------------------------------

struct Impl {
  std::string name;
  bool baseline;
  Check check;
  RunnerFactory make;
  std::string note = {};  // appended to a failed check's message
};

std::vector<Impl> impls_for([[maybe_unused]] const Layer& layer) {
  std::vector<Impl> impls;
#if defined(SFC_BENCH_HAVE_ONEDNN)
  impls.push_back(
      {"onednn_direct", true, Check::exact, [](Problem& p, int) -> std::unique_ptr<Runner> {
         return std::make_unique<OnednnRunner>(p, dnnl::algorithm::convolution_direct);
       }});
  if (layer.kernel == 3) {  // oneDNN implements Winograd for 3x3 only
    // oneDNN's int8 Winograd, F(2x2, 3x3), is approximate by design: it
    // divides the u8 input by 4 and scales the weights by 4/9 before
    // rounding both to 8 bits. Checked like the _q8 entries, and skipped
    // rather than fatal beyond the tolerance: that is oneDNN's accuracy, not
    // a wrong setup.
    impls.push_back({"onednn_wino", false, Check::approximate,
                     [](Problem& p, int) -> std::unique_ptr<Runner> {
                       return std::make_unique<OnednnRunner>(p,
                                                             dnnl::algorithm::convolution_winograd);
                     },
                     "oneDNN's int8 Winograd requantizes input / 4 and weights * 4/9 to 8 bits"});
  }
#endif
#if defined(SFC_BENCH_HAVE_OPERATOR) || defined(SFC_BENCH_HAVE_QUANTIZED)
  constexpr auto nchw = sfc::Layout::NCHW;
  constexpr auto nhwc = sfc::Layout::NHWC;
#endif
#if defined(SFC_BENCH_HAVE_OPERATOR)
  const auto exact = [&impls]<class Alg>(std::string suffix, sfc::Layout layout) {
    impls.push_back(
        {Alg::name() + "_exact" + suffix, false, Check::exact, sfc_exact_factory<Alg>(layout)});
  };
  switch (layer.kernel) {
    case 3:
      exact.template operator()<sfc::SFC<6, 7, 3>>("", nchw);
      exact.template operator()<sfc::SFC<6, 6, 3>>("", nchw);
      exact.template operator()<sfc::SFC<4, 4, 3>>("", nchw);
      exact.template operator()<sfc::SFC<6, 7, 3>>("_nhwc", nhwc);
      // Both weight paths, whichever the automatic rule picks above.
      impls.push_back({"sfc6_7_3_exact_nhwc_transformed", false, Check::exact,
                       sfc_exact_factory<sfc::SFC<6, 7, 3>>(nhwc, sfc::WeightPath::transformed)});
      impls.push_back({"sfc6_7_3_exact_nhwc_fly", false, Check::exact,
                       sfc_exact_factory<sfc::SFC<6, 7, 3>>(nhwc, sfc::WeightPath::on_the_fly)});
#if defined(SFC_SIMD_HAS_AVX2) && defined(SFC_SIMD_HAS_AVX512)
      // The AVX2 kernels, to compare with oneDNN under DNNL_MAX_CPU_ISA=AVX2.
      impls.push_back({"sfc6_7_3_exact_nhwc_avx2", false, Check::exact,
                       sfc_exact_factory<sfc::SFC<6, 7, 3>, sfc::simd::Avx2>(nhwc)});
#endif
      break;
    case 5:
      exact.template operator()<sfc::SFC<6, 6, 5>>("", nchw);
      break;
    case 7:
      exact.template operator()<sfc::SFC<6, 4, 7>>("", nchw);
      break;
    default:
      break;
  }
#endif
#if defined(SFC_BENCH_HAVE_QUANTIZED)
  const auto quantized = [&impls]<class Alg>(std::string suffix, sfc::Layout layout,
                                             bool int8_output) {
    impls.push_back({Alg::name() + "_q8" + suffix, false, Check::approximate,
                     sfc_quantized_factory<Alg>(layout, int8_output)});
  };
  switch (layer.kernel) {
    case 3:
      quantized.template operator()<sfc::SFC<6, 7, 3>>("", nchw, false);
      quantized.template operator()<sfc::SFC<6, 6, 3>>("", nchw, false);
      quantized.template operator()<sfc::SFC<4, 4, 3>>("", nchw, false);
      quantized.template operator()<sfc::Winograd<2, 3>>("", nchw, false);
      quantized.template operator()<sfc::Winograd<4, 3>>("", nchw, false);
      quantized.template operator()<sfc::SFC<6, 7, 3>>("_nhwc", nhwc, false);
      quantized.template operator()<sfc::SFC<6, 7, 3>>("_i8out", nchw, true);
#if defined(SFC_SIMD_HAS_AVX2) && defined(SFC_SIMD_HAS_AVX512)
      impls.push_back({"sfc6_7_3_q8_nhwc_avx2", false, Check::approximate,
                       sfc_quantized_factory<sfc::SFC<6, 7, 3>, sfc::simd::Avx2>(nhwc)});
#endif
#if defined(SFC_SIMD_HAS_AMX)
      // The GEMM on AMX tiles, to compare with oneDNN at its default ISA.
      impls.push_back({"sfc6_7_3_q8_nhwc_amx", false, Check::approximate,
                       sfc_quantized_factory<sfc::SFC<6, 7, 3>, sfc::simd::Amx>(nhwc)});
      impls.push_back({"sfc4_4_3_q8_nhwc_amx", false, Check::approximate,
                       sfc_quantized_factory<sfc::SFC<4, 4, 3>, sfc::simd::Amx>(nhwc)});
#endif
      break;
    case 5:
      quantized.template operator()<sfc::SFC<6, 6, 5>>("", nchw, false);
      break;
    case 7:
      quantized.template operator()<sfc::SFC<6, 4, 7>>("", nchw, false);
      break;
    default:
      break;
  }
#endif
  return impls;
}

void register_all() {
  for (const Layer& layer : layers()) {
    const std::vector<Impl> impls = impls_for(layer);
    for (const std::int64_t batch : layer.batches) {
      const sfc::Conv2dShape shape = shape_of(layer, batch);
      for (const int threads : kThreadCounts) {
        const std::string suffix = std::string("/") + layer.name + "/b" + std::to_string(batch) +
                                   "/t" + std::to_string(threads);
        const auto add = [&](const std::string& impl, bool baseline, Check check,
                             RunnerFactory make, std::string note = {}) {
          Entry entry{.name = "conv_int8/" + impl + suffix,
                      .impl = impl,
                      .shape = shape,
                      .threads = threads,
                      .baseline = baseline,
                      .check = check,
                      .make = std::move(make),
                      .note = std::move(note)};
          const std::string name = entry.name;
          return benchmark::RegisterBenchmark(name.c_str(),
                                              [entry = std::move(entry)](benchmark::State& state) {
                                                run_entry(state, entry);
                                              })
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        };
        if (batch == 1 && threads == 1 && shape.direct_macs() <= kNaiveMaxMacs) {
          add("naive", true, Check::exact, [](Problem& p, int) -> std::unique_ptr<Runner> {
            return std::make_unique<NaiveRunner>(p);
          })->Iterations(1);
        }
        for (const Impl& impl : impls) {
          add(impl.name, impl.baseline, impl.check, impl.make, impl.note);
        }
      }
    }
  }
}

void add_context() {
  benchmark::AddCustomContext("openmp", sfc_bench::openmp_enabled()
                                            ? "yes (oneDNN threaded)"
                                            : "no (oneDNN not built: its threads cannot be set)");
  benchmark::AddCustomContext(
      "int8_data", "input s8 in [-128, 127] (oneDNN: u8 = input + 128), weights s8 in [-" +
                       std::to_string(sfc_bench::kInt8WeightMagnitude) + ", " +
                       std::to_string(sfc_bench::kInt8WeightMagnitude - 1) +
                       "], bias s32 in [-65536, 65535]");
#if defined(SFC_BENCH_HAVE_ONEDNN)
  const char* max_isa = std::getenv("DNNL_MAX_CPU_ISA");
  benchmark::AddCustomContext("onednn_version", sfc_bench::onednn_version());
  benchmark::AddCustomContext("onednn_isa", sfc_bench::onednn_isa_name());
  benchmark::AddCustomContext("DNNL_MAX_CPU_ISA", max_isa != nullptr ? max_isa : "(unset)");
#else
  benchmark::AddCustomContext("onednn",
                              "not built (not found at configure time, no OpenMP, or "
                              "SFC_BENCH_ONEDNN=OFF)");
#endif
#if defined(SFC_BENCH_HAVE_OPERATOR)
  benchmark::AddCustomContext("sfc_exact_operator",
                              "sfc::Conv2d<std::int8_t, Alg> (sfc/layers/conv2d_int8.hpp)");
#else
  benchmark::AddCustomContext(
      "sfc_exact_operator",
      "not built (no sfc/layers/conv2d_int8.hpp, or SFC_BENCH_WITHOUT_OPERATOR)");
#endif
#if defined(SFC_BENCH_HAVE_QUANTIZED)
  benchmark::AddCustomContext("sfc_quantized_operator",
                              "sfc::QuantizedConv2d<Alg> (sfc/layers/conv2d_quantized.hpp), "
                              "8-bit codes, data scales calibrated on the input");
#else
  benchmark::AddCustomContext(
      "sfc_quantized_operator",
      "not built (no sfc/layers/conv2d_quantized.hpp, or SFC_BENCH_WITHOUT_OPERATOR)");
#endif
  benchmark::AddCustomContext("naive",
                              "batch 1, <= 2e8 MACs, 1 thread, 1 iteration per repetition");
}

}  // namespace

int main(int argc, char** argv) {
  // Default --benchmark_min_time to 0.2 s unless the caller sets it (by flag
  // or by Google Benchmark's environment variable).
  std::vector<char*> args(argv, argv + argc);
  static char default_min_time[] = "--benchmark_min_time=0.2";
  bool has_min_time = std::getenv("BENCHMARK_MIN_TIME") != nullptr;
  for (int i = 1; i < argc; ++i) {
    has_min_time = has_min_time || std::string_view(argv[i]).starts_with("--benchmark_min_time");
  }
  if (!has_min_time) {
    args.insert(args.begin() + 1, default_min_time);
  }
  int args_count = static_cast<int>(args.size());
  args.push_back(nullptr);

  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) {
    return 1;
  }
  add_context();
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
