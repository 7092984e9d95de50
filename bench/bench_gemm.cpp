// bench_gemm: the element-wise stage alone. The fp32, exact (int16) and
// quantized (8-bit) GEMM micro-kernels of the native SIMD target (and the
// quantized one on AMX tiles, BM_q8_amx, in builds with AMX), called as
// the operators call them: per transform slot q and weight panel p, `tiles`
// rows of the transformed data (row t of slot q at (t * slots + q) * C, the
// operators' tile-major block), C input and C output channels.
//
// The slot count sets the working set: with 4 slots every operand stays in
// L1/L2 and the entry shows the micro-kernel's own rate; with 132 (SFC-6(7x7,
// 3x3)) the transformed weights, 132 x C x C values, and the block's data and
// products come from L3 or memory, as they do in the operators; with 132
// slots over 4 distinct weight slots (`wslots:4`) only the data and products
// do, which separates the cost of streaming the weights. `fma_peak`
// is the core's fp32 multiply-add rate (12 independent chains) for scale;
// `stream_read` the rate one core reads a buffer of transformed weights.
// Counter GMAC/s: multiply-adds per second (tiles * slots * C * C / time).
//
//     build/release/bench/bench_gemm --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>

#include "sfc/core/aligned_buffer.hpp"
#include "sfc/kernels/gemm_f32.hpp"
#include "sfc/kernels/gemm_q8.hpp"
#include "sfc/kernels/gemm_s16.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"

namespace {

using S = sfc::simd::Native;

struct Shape {
  int slots, tiles, channels;
  int weight_slots;  ///< distinct weight slots: slot q uses the weights of q % weight_slots
  std::int64_t macs() const { return std::int64_t{slots} * tiles * channels * channels; }
};

Shape shape_of(const benchmark::State& state) {
  return {static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
          static_cast<int>(state.range(2)), static_cast<int>(state.range(3))};
}

template <class T>
sfc::AlignedBuffer<T> random_buffer(std::int64_t n, int lo, int hi, unsigned seed) {
  sfc::AlignedBuffer<T> b(static_cast<std::size_t>(n));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  for (std::int64_t i = 0; i < n; ++i) b.data()[i] = static_cast<T>(dist(rng));
  return b;
}

/// Times call(q, p) for every slot q and output panel p (of `panel` output
/// channels), as an operator's element-wise stage runs them.
template <class Call>
void time_slots(benchmark::State& state, const Shape& s, int panel, Call&& call,
                const char* label = S::name) {
  const int panels = s.channels / panel;
  for (auto _ : state) {
    for (int q = 0; q < s.slots; ++q)
      for (int p = 0; p < panels; ++p) call(q, p);
    benchmark::ClobberMemory();
  }
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(s.macs()) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(label);
}

// Operand layout of every entry: data row t of slot q at (t * slots + q) * C
// (stride ld), weight panel p of slot q at ((q % wslots) * panels + p) * C *
// NR, product row t of slot q at (t * slots + q) * C + p * NR.

void BM_f32(benchmark::State& state) {
  const Shape s = shape_of(state);
  constexpr int NR = sfc::kernels::panel_width<S>;
  const int C = s.channels;
  const std::int64_t data = std::int64_t{s.tiles} * s.slots * C;
  auto a = random_buffer<float>(data, -8, 8, 1);
  auto b = random_buffer<float>(std::int64_t{s.weight_slots} * C * C, -8, 8, 2);
  sfc::AlignedBuffer<float> c(static_cast<std::size_t>(data));
  const std::ptrdiff_t ld = std::ptrdiff_t{s.slots} * C;
  time_slots(state, s, NR, [&](int q, int p) {
    sfc::kernels::f32_gemm<S>(s.tiles, C, 1, a.data() + q * C, ld,
                              b.data() + (std::int64_t{q % s.weight_slots} * (C / NR) + p) * C * NR,
                              c.data() + q * C + p * NR, ld);
  });
}

void BM_s16(benchmark::State& state) {
  const Shape s = shape_of(state);
  constexpr int NR = S::s16_panel;
  const int C = s.channels;
  const std::int64_t data = std::int64_t{s.tiles} * s.slots * C;
  auto a = random_buffer<std::int16_t>(data, -512, 512, 1);
  auto b = random_buffer<std::int16_t>(std::int64_t{s.weight_slots} * C * C, -512, 512, 2);
  sfc::AlignedBuffer<std::int64_t> c(static_cast<std::size_t>(data));
  const std::ptrdiff_t ld = std::ptrdiff_t{s.slots} * C;
  time_slots(state, s, NR, [&](int q, int p) {
    sfc::kernels::s16_gemm<S>(s.tiles, C / 2, C / 2, a.data() + q * C, ld,
                              b.data() + (std::int64_t{q % s.weight_slots} * (C / NR) + p) * C * NR,
                              c.data() + q * C + p * NR, ld);
  });
}

/// Target Q: the native target, or the AMX one (BM_q8_amx, where built).
template <class Q>
void BM_q8(benchmark::State& state) {
  const Shape s = shape_of(state);
  if constexpr (requires { Q::using_tiles(); }) {
    if (!Q::using_tiles()) {
      state.SkipWithError("AMX tiles are not available to this process");
      return;
    }
  }
  constexpr int NR = Q::q8_panel;
  const int C = s.channels;
  const std::int64_t data = std::int64_t{s.tiles} * s.slots * C;
  auto a = random_buffer<std::int8_t>(data, -127, 127, 1);
  auto b = random_buffer<std::int8_t>(std::int64_t{s.weight_slots} * C * C, -127, 127, 2);
  auto init = random_buffer<std::int32_t>(NR, 0, 0, 3);
  sfc::AlignedBuffer<float> scale(NR), c(static_cast<std::size_t>(data));
  for (int j = 0; j < NR; ++j) scale.data()[j] = 1.0f / 1024;
  const std::ptrdiff_t ld = std::ptrdiff_t{s.slots} * C;
  time_slots(
      state, s, NR,
      [&](int q, int p) {
        sfc::kernels::q8_gemm<Q>(
            s.tiles, C / 4, a.data() + q * C, ld,
            b.data() + (std::int64_t{q % s.weight_slots} * (C / NR) + p) * C * NR, init.data(),
            scale.data(), c.data() + q * C + p * NR, ld);
      },
      Q::name);
}

void BM_fma_peak(benchmark::State& state) {
  using V = typename S::f32;
  constexpr int kChains = 12, kSteps = 1024;
  volatile float seed = 0.999f;  // not a constant: nothing folds
  const V x = S::broadcast(seed);
  V acc[kChains];
  sfc::kernels::static_for<kChains>([&](auto i) { acc[i] = S::broadcast(static_cast<float>(i)); });
  for (auto _ : state)
    for (int n = 0; n < kSteps; ++n)
      sfc::kernels::static_for<kChains>([&](auto i) { acc[i] = S::fmadd(acc[i], x, x); });
  // Only copies escape, so the accumulators stay in registers.
  alignas(64) float out[kChains][S::f32_lanes];
  sfc::kernels::static_for<kChains>([&](auto i) { S::store(out[i], acc[i]); });
  benchmark::DoNotOptimize(out);
  state.counters["GMAC/s"] =
      benchmark::Counter(static_cast<double>(kChains) * kSteps * S::f32_lanes * 1e-9,
                         benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(S::name);
}

// The rate at which one core reads a buffer that does not fit its L2 (a
// sum of every float, 4 vectors at a time): the bound on layers whose
// transformed weights stream once per call. Sizes: SFC-6(7x7, 3x3)'s
// transformed weights at C = 256 in int8 (quantized), int16 (exact) and
// fp32: 132 x 256 x 256 values.
void BM_stream_read(benchmark::State& state) {
  using V = typename S::f32;
  const std::int64_t bytes = state.range(0);
  const std::int64_t n =
      bytes / static_cast<std::int64_t>(sizeof(float)) / (4 * S::f32_lanes) * (4 * S::f32_lanes);
  sfc::AlignedBuffer<float> buffer(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) buffer.data()[i] = static_cast<float>(i % 7);
  for (auto _ : state) {
    V acc[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
    for (std::int64_t i = 0; i < n; i += 4 * S::f32_lanes)
      sfc::kernels::static_for<4>(
          [&](auto k) { acc[k] = S::add(acc[k], S::load(buffer.data() + i + k * S::f32_lanes)); });
    alignas(64) float out[S::f32_lanes];
    S::store(out, S::add(S::add(acc[0], acc[1]), S::add(acc[2], acc[3])));
    benchmark::DoNotOptimize(out);
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(n) * sizeof(float) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(S::name);
}

// Arguments: slots, tiles (36: the operators' block), channels, distinct
// weight slots (fewer than slots: the weights stay in cache while the data
// and products still stream, which isolates the cost of streaming weights).
void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"slots", "tiles", "C", "wslots"});
  for (int channels : {128, 256}) {
    for (int slots : {4, 36, 132}) b->Args({slots, 36, channels, slots});
    b->Args({132, 36, channels, 4});
  }
  // Batch 1 at C=256@14: 4 tiles, every weight streamed for 4 rows.
  b->Args({132, 4, 256, 132});
  // The quantized operator's block on the AMX target: 32 tiles.
  b->Args({132, 32, 128, 132});
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_fma_peak);
BENCHMARK(BM_f32)->Apply(shapes);
BENCHMARK(BM_s16)->Apply(shapes);
BENCHMARK(BM_q8<S>)->Name("BM_q8")->Apply(shapes);
#if defined(SFC_SIMD_HAS_AMX)
BENCHMARK(BM_q8<sfc::simd::Amx>)->Name("BM_q8_amx")->Apply(shapes);
#endif
BENCHMARK(BM_stream_read)
    ->ArgName("bytes")
    ->Arg(132 << 16)
    ->Arg(132 << 17)
    ->Arg(132 << 18)
    ->Unit(benchmark::kMillisecond);

}  // namespace
