// 00_demo: SFC convolution against naive direct convolution.
//
// For each of the paper's algorithms (and Winograd F(4x4, 3x3) for contrast)
// this runs one convolution layer on the same random data:
//   - naive direct convolution (sfc::reference::conv2d_direct), the baseline;
//   - the fp32 operator sfc::Conv2d<float, Algorithm> (SIMD kernels), on one
//     thread and on all threads, with its error against the baseline;
//   - int8 data through the exact int8 operator sfc::Conv2d<std::int8_t, Alg>
//     (SFC) or the exact rational tile evaluator (Winograd, whose transforms
//     are fractional), which must equal direct int8 convolution bit for bit.
// It prints shape, algorithm, multiplications per output (the arithmetic
// saving the algorithm offers), times (median of repetitions), speed-ups and
// the checks. Performance claims live in bench/RESULTS.md; this is a quick
// look. The demo exits non-zero if any check fails.
//
// Usage: 00_demo [--quick] [--channels C] [--size HW] [--reps K]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sfc/sfc.hpp"

namespace {

struct Options {
  std::int64_t channels = 32;
  std::int64_t size = 28;
  int reps = 5;
};

/// Median over `reps` timed calls, after one untimed warm-up call.
template <class F>
double median_seconds(int reps, F&& f) {
  f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

bool failed = false;

template <class Alg, class A2>
void run(const Options& o) {
  constexpr int R = Alg::R;
  const sfc::Conv2dShape s = sfc::Conv2dShape::square(1, o.channels, o.channels, o.size, R, R / 2);
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> i8(-128, 127);
  std::normal_distribution<float> nf(0.0f, 1.0f);
  std::vector<std::int8_t> xq(static_cast<std::size_t>(s.input_elements()));
  std::vector<std::int8_t> wq(static_cast<std::size_t>(s.weight_elements()));
  std::vector<float> xf(xq.size()), wf(wq.size());
  for (auto& v : xq) v = static_cast<std::int8_t>(i8(rng));
  for (auto& v : wq) v = static_cast<std::int8_t>(i8(rng));
  for (auto& v : xf) v = nf(rng);
  for (auto& v : wf) v = nf(rng);
  const auto n_out = static_cast<std::size_t>(s.output_elements());
  std::vector<std::int32_t> yq_ref(n_out), yq(n_out);
  std::vector<float> yf_ref(n_out), yf(n_out);

  const double t_naive = median_seconds(o.reps, [&] {
    sfc::reference::conv2d_direct(s, std::span<const float>(xf), std::span<const float>(wf), {},
                                  std::span<float>(yf_ref));
  });
  const sfc::Conv2d<float, A2> conv(s, wf);
  const double t_sfc = median_seconds(o.reps, [&] { conv.run(xf, yf, sfc::RunOptions{.threads = 1}); });
  const double t_sfc_all = median_seconds(o.reps, [&] { conv.run(xf, yf); });
  sfc::reference::conv2d_direct(s, std::span<const std::int8_t>(xq), std::span<const std::int8_t>(wq),
                                {}, std::span<std::int32_t>(yq_ref));
  // int8: the exact operator for SFC (integer transforms); Winograd's are
  // fractional, so it goes through the exact rational tile evaluator.
  std::string int8_how = "evaluator";
  if constexpr (sfc::HasSymbolic2D<Alg>) {
    const sfc::Conv2d<std::int8_t, A2> conv8(s, wq);
    const double t8 = median_seconds(o.reps, [&] { conv8.run(xq, yq, sfc::RunOptions{.threads = 1}); });
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f ms", t8 * 1e3);
    int8_how = buffer;
  } else {
    sfc::reference::conv2d_tiled_exact<A2>(s, xq, wq, {}, yq);
  }
  const bool exact = yq == yq_ref;
  double max_err = 0, max_ref = 0;
  for (std::size_t i = 0; i < n_out; ++i) {
    max_err = std::max(max_err, std::abs(double(yf[i]) - double(yf_ref[i])));
    max_ref = std::max(max_ref, std::abs(double(yf_ref[i])));
  }
  failed = failed || !exact || max_err > 1e-4 * (1 + max_ref);
  const double mults_per_output = double(A2::T) / (A2::M * A2::M);
  const std::string shape = std::to_string(o.channels) + "->" + std::to_string(o.channels) + " @" +
                            std::to_string(o.size) + "x" + std::to_string(o.size) + " k" +
                            std::to_string(R);
  std::printf("%-20s %-26s %6.2f / %-3d %9.2f %9.3f %8.0fx %9.3f %8.0fx  %-10s %-10s %.2e\n",
              shape.c_str(), Alg::display_name().c_str(), mults_per_output, R * R, t_naive * 1e3,
              t_sfc * 1e3, t_naive / t_sfc, t_sfc_all * 1e3, t_naive / t_sfc_all,
              exact ? "bit-exact" : "MISMATCH", int8_how.c_str(), max_err);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::int64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      const long long v = std::atoll(argv[++i]);
      if (v < 1 || v > 4096) {
        std::fprintf(stderr, "%s must be in 1..4096\n", a.c_str());
        std::exit(2);
      }
      return v;
    };
    if (a == "--quick") {
      o.channels = 4;
      o.size = 14;
      o.reps = 1;
    } else if (a == "--channels") {
      o.channels = next();
    } else if (a == "--size") {
      o.size = next();
    } else if (a == "--reps") {
      o.reps = static_cast<int>(next());
    } else {
      std::fprintf(stderr, "usage: 00_demo [--quick] [--channels C] [--size HW] [--reps K]\n");
      return 2;
    }
  }
  std::printf("SFC demo: batch 1, same padding, random data; times are medians of %d run(s).\n",
              o.reps);
  std::printf("fp32: sfc::Conv2d (SIMD target %s, up to %d threads) vs naive direct convolution.\n",
              sfc::simd::Native::name, sfc::detail::resolve_threads(0, "00_demo"));
  std::printf("int8: exact operator sfc::Conv2d<int8_t> (SFC; its 1-thread time) or the exact\n"
              "      rational tile evaluator (Winograd) vs direct int8 convolution.\n\n");
  std::printf("%-20s %-26s %12s %9s %9s %9s %9s %9s  %-10s %-10s %s\n", "shape", "algorithm",
              "mults/out", "naive ms", "1 thr ms", "speed-up", "all ms", "speed-up", "int8", "int8 by",
              "fp32 max err");
  run<sfc::SFC<6, 7, 3>, sfc::SFC<6, 7, 3>::symbolic_2d>(o);
  run<sfc::SFC<6, 6, 3>, sfc::SFC<6, 6, 3>::symbolic_2d>(o);
  run<sfc::SFC<4, 4, 3>, sfc::SFC<4, 4, 3>::symbolic_2d>(o);
  run<sfc::SFC<6, 6, 5>, sfc::SFC<6, 6, 5>::symbolic_2d>(o);
  run<sfc::SFC<6, 4, 7>, sfc::SFC<6, 4, 7>::symbolic_2d>(o);
  run<sfc::Winograd<4, 3>, sfc::Winograd<4, 3>::nested_2d>(o);
  std::printf("\nmults/out: multiplications per output in the transform domain / direct (R*R).\n");
  if (failed) {
    std::printf("FAILED: an exactness or error check did not hold\n");
    return 1;
  }
  std::printf("all checks passed\n");
  return 0;
}
