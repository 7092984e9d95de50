// fp32 2D convolution: SFC operators against their baselines, in one binary so
// that every ratio comes from one run on one machine.
//
// Benchmark names:  conv_f32/<impl>/<layer>/b<batch>/t<threads>[/real_time]
//   impl    naive           sfc::reference::conv2d_direct (double accumulation)
//           im2col_eigen    im2col + one Eigen GEMM per image
//           onednn_direct   oneDNN convolution_direct, blocked layouts
//           onednn_wino     oneDNN convolution_winograd (3x3 layers only)
//           sfc6_7_3 ...    sfc::Conv2d<float, Alg>, named by Alg::name()
//           sfc6_7_3_nhwc   the same with NHWC input and output
//   layer   <net>_k<kernel>_c<channels>_<size>, rows of kLayers below.
// Every entry runs stride 1, zero padding, OIHW weights, NCHW activations
// (unless _nhwc), with a bias, on fixed pseudo-random data in [-1, 1).
//
// Reported: real time per convolution (ms), and counters GFLOP/s
// (2 * Conv2dShape::direct_macs() per second, whatever the algorithm really
// computes), batch, Cin, Cout, H, W, K, threads, and max_rel_err (max |out -
// ref| / max |ref| against sfc::reference::conv2d_direct, measured once).
//
// Not timed: reference outputs, weight transforms and reorders, oneDNN
// primitive creation and the reorders to and from oneDNN's blocked layouts,
// buffer allocation, one warm-up run (not for naive). Timed: the convolution
// alone.
//
// Correctness: before timing, each entry's output is compared with the
// reference. A baseline beyond 1e-4 stops the program with a message (the
// baselines are what the ratios are taken against); an SFC entry beyond 1e-3
// is skipped with the error as its message.
//
// Run time: the default --benchmark_min_time is 0.2 s here (not Google
// Benchmark's 0.5 s); pass the flag to change it. naive runs only where
// batch = 1 and the layer has at most 2e8 MACs, on one thread and for one
// iteration per repetition (about 0.3 s each). With --benchmark_repetitions=5
// the whole binary takes roughly 10 minutes on 2 cores. Examples:
//   bench_conv_f32 --benchmark_filter='resnet18_k3_c256_14/b1/'
//   bench_conv_f32 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//                  --benchmark_out=conv_f32.json --benchmark_out_format=json
//   python3 scripts/plot_bench.py conv_f32.json --png conv_f32.png
//   DNNL_MAX_CPU_ISA=AVX2 bench_conv_f32 ...   (limit oneDNN's ISA)

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baselines_f32.hpp"

#if __has_include(<sfc/layers/conv2d.hpp>) && !defined(SFC_BENCH_WITHOUT_OPERATOR)
#include <sfc/layers/conv2d.hpp>
#include <sfc/transforms/sfc.hpp>
#include <sfc/transforms/winograd.hpp>
#define SFC_BENCH_HAVE_OPERATOR 1
#endif

namespace {

using sfc_bench::Problem;
using sfc_bench::to_size;

// ---------------------------------------------------------------------------
// Layers. Square images, Cin = Cout, "same" padding (kernel / 2). Each row
// runs at each of its batches and at 1 and 2 threads. naive (one thread)
// runs on the batch-1 rows of at most kNaiveMaxMacs: the four ResNet-18 rows
// (116 M MACs each), 5x5 (80 M) and 7x7 (157 M); the VGG-16 rows (462 M to
// 1.85 G) and batch 8 would take seconds per call.
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

constexpr double kBaselineTolerance = 1e-4;
constexpr double kSfcTolerance = 1e-3;

sfc::Conv2dShape shape_of(const Layer& layer, std::int64_t batch) {
  return sfc::Conv2dShape::square(batch, layer.channels, layer.channels, layer.size,
                                  layer.kernel, layer.kernel / 2);
}

// ---------------------------------------------------------------------------
// Runners: one configured convolution, ready to run on its problem's input.
// ---------------------------------------------------------------------------

class Runner {
 public:
  virtual ~Runner() = default;
  /// One convolution (the timed part).
  virtual void run() = 0;
  /// The last run's output as NCHW (not timed).
  virtual std::vector<float> output_nchw() = 0;
  /// What actually runs, for the benchmark label.
  virtual std::string label() const = 0;
  /// Whether to run once, untimed, before timing.
  virtual bool warm_up() const { return true; }
};

using RunnerFactory = std::function<std::unique_ptr<Runner>(Problem&, int threads)>;

class NaiveRunner final : public Runner {
 public:
  explicit NaiveRunner(Problem& p) : p_(p), out_(to_size(p.shape.output_elements())) {}
  void run() override {
    sfc::reference::conv2d_direct(p_.shape, p_.input, p_.weights, p_.bias, out_);
  }
  std::vector<float> output_nchw() override { return out_; }
  std::string label() const override { return "sfc::reference::conv2d_direct, 1 thread"; }
  bool warm_up() const override { return false; }  // 0.1-0.3 s a call; caches don't matter

 private:
  Problem& p_;
  std::vector<float> out_;
};

class Im2colRunner final : public Runner {
 public:
  Im2colRunner(Problem& p, int threads)
      : p_(p),
        threads_(threads),
        conv_(p.shape, p.weights, p.bias),
        out_(to_size(p.shape.output_elements())) {}
  void run() override { conv_.run(p_.input, out_, threads_); }
  std::vector<float> output_nchw() override { return out_; }
  std::string label() const override {
    // The widest instruction set Eigen uses comes first in its list.
    const std::string simd = Eigen::SimdInstructionSetsInUse();
    return std::string("im2col + Eigen ") + std::to_string(EIGEN_WORLD_VERSION) + "." +
           std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) +
           " GEMM, " + simd.substr(0, simd.find(','));
  }

 private:
  Problem& p_;
  int threads_;
  sfc_bench::Im2colEigenConv conv_;
  std::vector<float> out_;
};

#if defined(SFC_BENCH_HAVE_ONEDNN)
class OnednnRunner final : public Runner {
 public:
  OnednnRunner(Problem& p, dnnl::algorithm algorithm)
      : shape_(p.shape), conv_(p.shape, p.weights, p.bias, algorithm) {
    conv_.load_input(p.input);
  }
  void run() override { conv_.run(); }
  std::vector<float> output_nchw() override {
    std::vector<float> out(to_size(shape_.output_elements()));
    conv_.store_output(out);
    return out;
  }
  std::string label() const override { return "oneDNN " + conv_.impl_info(); }

 private:
  sfc::Conv2dShape shape_;
  sfc_bench::OnednnConv conv_;
};
#endif

#if defined(SFC_BENCH_HAVE_OPERATOR)
template <class Alg>
class SfcRunner final : public Runner {
 public:
  SfcRunner(Problem& p, int threads, sfc::Layout layout)
      : shape_(p.shape),
        layout_(layout),
        conv_(p.shape, std::span<const float>(p.weights), std::span<const float>(p.bias),
              conv_options(layout)),
        input_(layout == sfc::Layout::NHWC ? to_nhwc(p) : p.input),
        output_(to_size(p.shape.output_elements())) {
    run_options_.threads = threads;
  }
  void run() override {
    conv_.run(std::span<const float>(input_), std::span<float>(output_), run_options_);
  }
  std::vector<float> output_nchw() override {
    if (layout_ == sfc::Layout::NCHW) {
      return output_;
    }
    return sfc_bench::nhwc_to_nchw(output_, shape_.batch, shape_.out_channels,
                                   shape_.output_height(), shape_.output_width());
  }
  std::string label() const override {
    return "sfc::Conv2d " + Alg::display_name() + " " + std::string(sfc::to_string(layout_));
  }

 private:
  static sfc::ConvOptions conv_options(sfc::Layout layout) {
    sfc::ConvOptions options;  // fields set by name: independent of their order
    options.input_layout = layout;
    options.output_layout = layout;
    options.relu = false;
    return options;
  }
  static std::vector<float> to_nhwc(const Problem& p) {
    return sfc_bench::nchw_to_nhwc(p.input, p.shape.batch, p.shape.in_channels, p.shape.height,
                                   p.shape.width);
  }

  sfc::Conv2dShape shape_;
  sfc::Layout layout_;
  sfc::Conv2d<float, Alg> conv_;
  std::vector<float> input_;
  std::vector<float> output_;
  sfc::RunOptions run_options_;
};

template <class Alg>
RunnerFactory sfc_factory(sfc::Layout layout) {
  return [layout](Problem& p, int threads) -> std::unique_ptr<Runner> {
    return std::make_unique<SfcRunner<Alg>>(p, threads, layout);
  };
}
#endif

// ---------------------------------------------------------------------------
// Shared state. Google Benchmark calls a benchmark function once per
// iteration-count trial and once per repetition; the expensive setup is kept
// between those calls. Problems (data + reference output) stay for the whole
// run; only the runner of the current benchmark is kept, since transformed
// weights of the big layers take up to ~100 MB.
// ---------------------------------------------------------------------------

Problem& problem_for(const sfc::Conv2dShape& shape) {
  static std::map<std::string, std::unique_ptr<Problem>> problems;
  auto& slot = problems[shape.to_string()];
  if (!slot) {
    slot = std::make_unique<Problem>(shape);
  }
  return *slot;
}

struct Entry {
  std::string name;  // full benchmark name
  std::string impl;
  sfc::Conv2dShape shape;
  int threads = 1;
  bool baseline = true;  // mismatch stops the program (else: skip the entry)
  RunnerFactory make;
};

struct Current {
  std::string name;
  std::unique_ptr<Runner> runner;
  std::string error;  // non-empty: the runner could not be made or is wrong
  double max_rel_err = 0.0;
};

Current& current_for(const Entry& e, Problem& problem) {
  static Current current;
  if (current.name == e.name) {
    return current;
  }
  current.runner.reset();  // free the previous one before building the next
  current.name = e.name;
  current.error.clear();
  current.max_rel_err = 0.0;
  try {
    current.runner = e.make(problem, e.threads);
    current.runner->run();
    current.max_rel_err =
        sfc_bench::max_relative_error(current.runner->output_nchw(), problem.reference_output());
  } catch (const std::exception& ex) {
    current.runner.reset();
    current.error = std::string(ex.what()) + " [" + e.shape.to_string() + "]";
    return current;
  }
  const double tolerance = e.baseline ? kBaselineTolerance : kSfcTolerance;
  if (!(current.max_rel_err <= tolerance)) {
    const std::string message = e.name + ": max relative error " +
                                std::to_string(current.max_rel_err) + " against " +
                                "sfc::reference::conv2d_direct exceeds " +
                                std::to_string(tolerance) + " (" + e.shape.to_string() + ")";
    if (e.baseline) {
      std::fprintf(stderr, "bench_conv_f32: wrong baseline, stopping. %s\n", message.c_str());
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
  state.counters["GFLOP/s"] =
      benchmark::Counter(gflop * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
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
// problem's reference is computed once and consecutive benchmarks share it.
// ---------------------------------------------------------------------------

struct Impl {
  std::string name;
  bool baseline;
  RunnerFactory make;
};

std::vector<Impl> impls_for([[maybe_unused]] const Layer& layer) {
  std::vector<Impl> impls;
  impls.push_back({"im2col_eigen", true, [](Problem& p, int threads) -> std::unique_ptr<Runner> {
                     return std::make_unique<Im2colRunner>(p, threads);
                   }});
#if defined(SFC_BENCH_HAVE_ONEDNN)
  impls.push_back({"onednn_direct", true, [](Problem& p, int) -> std::unique_ptr<Runner> {
                     return std::make_unique<OnednnRunner>(p, dnnl::algorithm::convolution_direct);
                   }});
  if (layer.kernel == 3) {  // oneDNN implements Winograd for 3x3 only
    impls.push_back({"onednn_wino", true, [](Problem& p, int) -> std::unique_ptr<Runner> {
                       return std::make_unique<OnednnRunner>(p,
                                                             dnnl::algorithm::convolution_winograd);
                     }});
  }
#endif
#if defined(SFC_BENCH_HAVE_OPERATOR)
  const auto add = [&impls]<class Alg>(std::string suffix, sfc::Layout layout) {
    impls.push_back({Alg::name() + suffix, false, sfc_factory<Alg>(layout)});
  };
  constexpr auto nchw = sfc::Layout::NCHW;
  switch (layer.kernel) {
    case 3:
      add.template operator()<sfc::SFC<6, 7, 3>>("", nchw);
      add.template operator()<sfc::SFC<6, 6, 3>>("", nchw);
      add.template operator()<sfc::SFC<4, 4, 3>>("", nchw);
      add.template operator()<sfc::Winograd<2, 3>>("", nchw);
      add.template operator()<sfc::Winograd<4, 3>>("", nchw);
      add.template operator()<sfc::SFC<6, 7, 3>>("_nhwc", sfc::Layout::NHWC);
      break;
    case 5:
      add.template operator()<sfc::SFC<6, 6, 5>>("", nchw);
      break;
    case 7:
      add.template operator()<sfc::SFC<6, 4, 7>>("", nchw);
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
        const auto add = [&](const std::string& impl, bool baseline, RunnerFactory make) {
          Entry entry{.name = "conv_f32/" + impl + suffix,
                      .impl = impl,
                      .shape = shape,
                      .threads = threads,
                      .baseline = baseline,
                      .make = std::move(make)};
          const std::string name = entry.name;
          return benchmark::RegisterBenchmark(
                     name.c_str(),
                     [entry = std::move(entry)](benchmark::State& state) { run_entry(state, entry); })
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        };
        if (batch == 1 && threads == 1 && shape.direct_macs() <= kNaiveMaxMacs) {
          add("naive", true, [](Problem& p, int) -> std::unique_ptr<Runner> {
            return std::make_unique<NaiveRunner>(p);
          })->Iterations(1);
        }
        for (const Impl& impl : impls) {
          add(impl.name, impl.baseline, impl.make);
        }
      }
    }
  }
}

void add_context() {
  benchmark::AddCustomContext(
      "openmp", sfc_bench::openmp_enabled() ? "yes (im2col_eigen and oneDNN threaded)"
                                            : "no (baselines single-threaded)");
  benchmark::AddCustomContext("eigen_simd", Eigen::SimdInstructionSetsInUse());
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
  benchmark::AddCustomContext("sfc_operator", "sfc::Conv2d (sfc/layers/conv2d.hpp)");
#else
  benchmark::AddCustomContext("sfc_operator",
                              "not built (no sfc/layers/conv2d.hpp, or SFC_BENCH_WITHOUT_OPERATOR)");
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
