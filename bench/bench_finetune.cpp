// bench_finetune: how long fine-tuning the scales of one layer of the real
// model takes (sfc::quant::finetune_scales through the examples' calibration,
// examples/model/quantized.hpp), for every conv layer of fmnist_res3x3.
//
// Each entry calibrates one layer for SFC-6(7x7, 3x3) at 8 bits on the
// model's calibration images of the Fashion-MNIST training set, with the
// fine-tuning settings of 02_fmnist (ex::QuantizedOptions: 200 iterations,
// 16 images tuned, 48 choosing): the time is the whole calibrate_layer call
// (max-abs statistics, then fine-tuning). Arguments: power-of-two scales
// (1) or free ones (0), and threads. Counters: the layer's output MSE on the
// choosing images before and after, and the iterations per second.
//
//     build/release/bench/bench_finetune --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// Needs the model (examples/data) and Debian's dataset-fashion-mnist.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/calibration_set.hpp"
#include "model/idx.hpp"
#include "model/model.hpp"
#include "model/network.hpp"
#include "model/quantized.hpp"
#include "sfc/transforms/sfc.hpp"

namespace {

namespace ex = sfc::examples;
using Alg = sfc::SFC<6, 7, 3>;

const std::filesystem::path kData = SFC_EXAMPLES_DATA_DIR;

/// The model, its conv layers and their calibration data (loaded once).
struct Setup {
  std::shared_ptr<const ex::Model> model;
  std::vector<ex::ConvLayer> layers;
  ex::Calibration cal;
};

const Setup& setup() {
  static const Setup s = [] {
    Setup r;
    r.model = std::make_shared<const ex::Model>(ex::load_model(kData / "fmnist_res3x3.txt"));
    const ex::Network net(r.model, ex::direct_float_backend(1));
    r.layers.assign(net.conv_layers().begin(), net.conv_layers().end());  // weights: views of *r.model
    const ex::LabeledImages train = ex::load_fashion_mnist(ex::kFashionMnistDir, ex::Split::train);
    const std::vector<float> x = ex::calibration_images(kData / "fmnist_res3x3.txt", train);
    const auto count = ex::calibration_indices(kData / "fmnist_res3x3.txt", train).size();
    r.cal = ex::calibrate(r.model, x, static_cast<int>(count), 1);
    return r;
  }();
  return s;
}

void BM_Finetune(benchmark::State& state, std::size_t layer) {
  const Setup& s = setup();
  const ex::ConvLayer& l = s.layers.at(layer);
  const ex::QuantizedOptions options{.bits = 8,
                                     .finetune = true,
                                     .power_of_two = state.range(0) != 0,
                                     .threads = static_cast<int>(state.range(1))};
  ex::QuantizedLayer q;
  for (auto _ : state) {
    q = ex::calibrate_layer<Alg>(l, s.cal, options);
    benchmark::DoNotOptimize(q.params.data_scales.data());
  }
  state.SetLabel(l.name + " " + std::to_string(l.in_channels) + "->" + std::to_string(l.out_channels) + " @ " +
                 std::to_string(l.height) + "x" + std::to_string(l.width));
  state.counters["mse_before"] = q.finetune_mse.first;
  state.counters["mse_after"] = q.finetune_mse.second;
  state.counters["iterations_per_s"] =
      benchmark::Counter(static_cast<double>(options.finetune_iterations) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

}  // namespace

// One entry per conv layer of the model, registered once the model is read.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Setup& s = setup();
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    benchmark::RegisterBenchmark(("finetune/" + s.layers[i].name).c_str(),
                                 [i](benchmark::State& st) { BM_Finetune(st, i); })
        ->ArgNames({"pow2", "threads"})
        ->ArgsProduct({{1, 0}, {1, 2}})
        ->Unit(benchmark::kSecond)
        ->Iterations(1)
        ->UseRealTime();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
