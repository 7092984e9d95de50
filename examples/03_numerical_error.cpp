// Example 03: numerical error of fast convolution in low precision.
//
// A fast algorithm trades multiplications for transforms, and the transforms
// change how rounding errors grow. This program measures that for the paper's
// SFC algorithms and for Winograd, in the style of the SFC paper's Table 1:
// the RMS error of an algorithm against an exact (double precision) direct
// convolution, divided by the RMS error of direct convolution evaluated in the
// same arithmetic ("normalized error": 1 means as accurate as direct).
//
// Each algorithm runs through its factored 2D stages exactly as the library
// defines them (the symbolic 2D form for SFC, the nested form for Winograd:
// sfc::algorithm_2d_t), with sfc::reference::TileEvaluator<S> doing every
// operation in the arithmetic S. Three arithmetics:
//   fp16       every value and every operation in IEEE half (sfc::Half,
//              correctly rounded): inputs, transform coefficients, both
//              transforms (the weights' too), products, the sum over input
//              channels, the output transform. Direct: half products added
//              one by one to a half running sum (channels, then kernel rows,
//              then columns).
//   fp16/fp32  half storage, single precision arithmetic: inputs and weights
//              are stored in half, both transforms run in float and their
//              results are stored in half, products and sums over channels
//              and the output transform run in float. Direct: half inputs
//              and weights, float products and sums.
//   int8       the transform domain quantized to 8 bits, as DESIGN.md 2
//              prescribes: the (exactly) transformed data with one max-abs
//              scale per transform slot, the transformed weights with one
//              max-abs scale per (slot, output channel), exact integer sums,
//              the output transform in double. Direct: int8 data (one
//              max-abs scale for the tensor) and int8 weights (one per
//              output channel), exact integer sums.
// Inputs: N(0, 1) ("normal") and |N(0, 1)| ("non-negative", like activations
// after a ReLU); weights N(0, 2 / (Cin R^2)) (He initialisation). Every
// algorithm computes about `area` outputs per output channel (whole tiles,
// each with its own independent L x L input of Cin channels) for Cout output
// channels, from a fixed seed; the reference is direct convolution in double.
// Default: Cin 128, Cout 16, area 576; --quick: Cin 64, Cout 4, area 144.
//
//   03_numerical_error                 the full run, as a table
//   03_numerical_error --json          the same, one JSON object per algorithm
//   03_numerical_error --quick         a small run (the ctest)
//   options: --cin C --cout C --area A --seed S --nonneg abs|uniform|relu
//
// It checks its own results and exits with 1 when the expected shape
// (DESIGN.md 1.6) fails; the limits, and the measured margins they were chosen
// with, are listed before check() below. In short: the stages in double
// reproduce the reference; no ratio is below 0.1 (each arithmetic really
// rounds); every SFC ratio is below 4 and flat across the 3x3 tile sizes;
// Winograd F(4x4, 3x3) is more than 2x the worst 3x3 SFC and F(2x2, 7x7) more
// than 2x the worst SFC in every cell, and F(2x2, 7x7) is worse than
// F(4x4, 3x3) with fp32 accumulation. Exit status 2 means bad usage.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sfc/layers/conv2d.hpp"
#include "sfc/quantization/half.hpp"
#include "sfc/reference/tile_evaluator_generic.hpp"
#include "sfc/transforms/catalog.hpp"

namespace {

using sfc::Half;
using sfc::reference::TileEvaluator;

// ---------------------------------------------------------------------------
// Deterministic random numbers. The standard distributions differ between
// library implementations, so the samples are drawn here from the raw
// (standardised) mt19937_64 output.
// ---------------------------------------------------------------------------
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  /// Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1p-53; }
  /// Standard normal (Box-Muller).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(1.0 - uniform()));
    const double t = 2.0 * std::numbers::pi * uniform();
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

enum class NonNeg { abs, uniform, relu };

struct Options {
  int cin = 128, cout = 16;
  int area = 576;  ///< output positions per output channel and algorithm (whole tiles)
  std::uint64_t seed = 1;
  NonNeg nonneg = NonNeg::abs;
  bool json = false;
};

const char* nonneg_name(NonNeg k) {
  return k == NonNeg::abs ? "|N(0,1)|" : k == NonNeg::uniform ? "U[0,1)" : "max(0,N(0,1))";
}

// ---------------------------------------------------------------------------
// One problem: `tiles` data tiles (L x L, Cin channels), Cout x Cin kernels
// (R x R) and the reference output tiles (M x M, Cout channels) in double.
// ---------------------------------------------------------------------------
struct Problem {
  int M, L, R, cin, cout, tiles;
  std::vector<double> x;    // [tile][cin][L * L]
  std::vector<double> w;    // [cout][cin][R * R]
  std::vector<double> ref;  // [tile][cout][M * M]

  std::size_t xi(int t, int i) const { return (static_cast<std::size_t>(t) * cin + i) * L * L; }
  std::size_t wi(int o, int i) const { return (static_cast<std::size_t>(o) * cin + i) * R * R; }
  std::size_t yi(int t, int o) const { return (static_cast<std::size_t>(t) * cout + o) * M * M; }
  std::size_t outputs() const { return static_cast<std::size_t>(tiles) * cout * M * M; }
};

/// Direct convolution (correlation) of every tile in arithmetic S: inputs
/// converted by `in`, products and the running sum (over channels, then
/// kernel rows, then columns) in S, each result passed through `round`.
/// (fp16 runs here as doubles holding half values with round = round to
/// half: exactly sfc::Half's arithmetic, without converting back and forth.)
template <class S, class In, class Round>
std::vector<double> direct(const Problem& p, In in, Round round) {
  std::vector<S> xs(p.x.size()), ws(p.w.size());
  for (std::size_t k = 0; k < xs.size(); ++k) xs[k] = in(p.x[k]);
  for (std::size_t k = 0; k < ws.size(); ++k) ws[k] = in(p.w[k]);
  std::vector<double> y(p.outputs());
  for (int t = 0; t < p.tiles; ++t)
    for (int o = 0; o < p.cout; ++o)
      for (int a = 0; a < p.M; ++a)
        for (int b = 0; b < p.M; ++b) {
          S acc{};
          for (int i = 0; i < p.cin; ++i) {
            const S* x = &xs[p.xi(t, i)];
            const S* w = &ws[p.wi(o, i)];
            for (int u = 0; u < p.R; ++u)
              for (int v = 0; v < p.R; ++v)
                acc = round(acc + round(x[(a + u) * p.L + b + v] * w[u * p.R + v]));
          }
          y[p.yi(t, o) + static_cast<std::size_t>(a * p.M + b)] = static_cast<double>(acc);
        }
  return y;
}

double keep_double(double v) { return v; }

Problem make_problem(const sfc::Plan2D& plan, const Options& o, bool nonneg) {
  const int tiles = (o.area + plan.M * plan.M - 1) / (plan.M * plan.M);
  Problem p{plan.M, plan.L, plan.R, o.cin, o.cout, tiles, {}, {}, {}};
  // One stream per (seed, distribution, tile size, kernel): the same problem
  // for every run with these options, whatever else runs before it.
  Random rng(o.seed * 1000003u + (nonneg ? 500u : 0u) + static_cast<unsigned>(p.L * 16 + p.R));
  p.x.resize(static_cast<std::size_t>(p.tiles) * p.cin * p.L * p.L);
  for (double& v : p.x) {
    if (!nonneg)
      v = rng.normal();
    else if (o.nonneg == NonNeg::abs)
      v = std::abs(rng.normal());
    else if (o.nonneg == NonNeg::uniform)
      v = rng.uniform();
    else
      v = std::max(0.0, rng.normal());
  }
  const double he = std::sqrt(2.0 / (p.cin * p.R * p.R));
  p.w.resize(static_cast<std::size_t>(p.cout) * p.cin * p.R * p.R);
  for (double& v : p.w) v = he * rng.normal();
  p.ref = direct<double>(p, keep_double, keep_double);
  return p;
}

// ---------------------------------------------------------------------------
// The algorithm through its stages.
// ---------------------------------------------------------------------------

/// Arithmetic S for everything; `store` rounds each transformed value to its
/// storage format (identity when S is the storage format).
template <class S, class In, class Store>
std::vector<double> fast(const sfc::Plan2D& plan, const Problem& p, In in, Store store) {
  const TileEvaluator<S> ev(plan);
  const auto T = static_cast<std::size_t>(ev.T());
  const auto LL = static_cast<std::size_t>(p.L * p.L), RR = static_cast<std::size_t>(p.R * p.R);
  // Weights transformed once: [cout][cin][T].
  std::vector<S> wt(static_cast<std::size_t>(p.cout) * p.cin * T), tap(RR), tile(LL);
  for (int o = 0; o < p.cout; ++o)
    for (int i = 0; i < p.cin; ++i) {
      for (std::size_t k = 0; k < RR; ++k) tap[k] = in(p.w[p.wi(o, i) + k]);
      const std::span<S> out(&wt[(static_cast<std::size_t>(o) * p.cin + i) * T], T);
      ev.transform_weights(tap, out);
      for (S& v : out) v = store(v);
    }
  std::vector<S> dt(static_cast<std::size_t>(p.cin) * T), m(T),
      yt(static_cast<std::size_t>(p.M * p.M));
  std::vector<double> y(p.outputs());
  for (int t = 0; t < p.tiles; ++t) {
    for (int i = 0; i < p.cin; ++i) {
      for (std::size_t k = 0; k < LL; ++k) tile[k] = in(p.x[p.xi(t, i) + k]);
      const std::span<S> out(&dt[static_cast<std::size_t>(i) * T], T);
      ev.transform_data(tile, out);
      for (S& v : out) v = store(v);
    }
    for (int o = 0; o < p.cout; ++o) {
      ev.multiply(dt, std::span<const S>(&wt[static_cast<std::size_t>(o) * p.cin * T], p.cin * T),
                  p.cin, m);
      ev.output(m, yt);
      for (std::size_t k = 0; k < yt.size(); ++k) y[p.yi(t, o) + k] = static_cast<double>(yt[k]);
    }
  }
  return y;
}

/// Symmetric 8-bit code of v with step `scale` (round to nearest even).
std::int64_t quantize8(double v, double scale) {
  return static_cast<std::int64_t>(std::clamp(std::nearbyint(v / scale), -127.0, 127.0));
}
double max_abs_scale(double max_abs) { return max_abs > 0 ? max_abs / 127 : 1.0; }

/// The transform domain quantized to int8 (frequency-wise data scales,
/// (slot, output channel) weight scales), exact sums, output in double.
std::vector<double> fast_int8(const sfc::Plan2D& plan, const Problem& p) {
  const TileEvaluator<double> ev(plan);
  const auto T = static_cast<std::size_t>(ev.T());
  const auto cin = static_cast<std::size_t>(p.cin);
  const auto LL = static_cast<std::size_t>(p.L * p.L), RR = static_cast<std::size_t>(p.R * p.R);
  std::vector<double> wt(static_cast<std::size_t>(p.cout) * cin * T);
  for (int o = 0; o < p.cout; ++o)
    for (int i = 0; i < p.cin; ++i)
      ev.transform_weights(std::span<const double>(&p.w[p.wi(o, i)], RR),
                           std::span<double>(&wt[(static_cast<std::size_t>(o) * cin + i) * T], T));
  std::vector<double> dt(static_cast<std::size_t>(p.tiles) * cin * T);
  for (int t = 0; t < p.tiles; ++t)
    for (int i = 0; i < p.cin; ++i)
      ev.transform_data(std::span<const double>(&p.x[p.xi(t, i)], LL),
                        std::span<double>(&dt[(static_cast<std::size_t>(t) * cin + i) * T], T));
  // Scales: data per slot over all tiles and channels; weights per (output channel, slot).
  std::vector<double> ds(T, 0.0), ws(static_cast<std::size_t>(p.cout) * T, 0.0);
  for (std::size_t k = 0; k < dt.size(); ++k) ds[k % T] = std::max(ds[k % T], std::abs(dt[k]));
  for (std::size_t k = 0; k < wt.size(); ++k) {
    double& s = ws[k / (cin * T) * T + k % T];
    s = std::max(s, std::abs(wt[k]));
  }
  for (double& s : ds) s = max_abs_scale(s);
  for (double& s : ws) s = max_abs_scale(s);
  std::vector<std::int64_t> dq(dt.size()), wq(wt.size());
  for (std::size_t k = 0; k < dt.size(); ++k) dq[k] = quantize8(dt[k], ds[k % T]);
  for (std::size_t k = 0; k < wt.size(); ++k)
    wq[k] = quantize8(wt[k], ws[k / (cin * T) * T + k % T]);

  std::vector<double> m(T), yt(static_cast<std::size_t>(p.M * p.M)), y(p.outputs());
  for (int t = 0; t < p.tiles; ++t)
    for (int o = 0; o < p.cout; ++o) {
      for (std::size_t q = 0; q < T; ++q) {
        std::int64_t acc = 0;
        for (std::size_t i = 0; i < cin; ++i)
          acc += dq[(static_cast<std::size_t>(t) * cin + i) * T + q] *
                 wq[(static_cast<std::size_t>(o) * cin + i) * T + q];
        m[q] = static_cast<double>(acc) * ds[q] * ws[static_cast<std::size_t>(o) * T + q];
      }
      ev.output(m, yt);
      std::copy(yt.begin(), yt.end(), y.begin() + static_cast<std::ptrdiff_t>(p.yi(t, o)));
    }
  return y;
}

/// Direct convolution of int8 data (one scale per tensor) and int8 weights
/// (one scale per output channel), exact sums.
std::vector<double> direct_int8(const Problem& p) {
  double xmax = 0;
  for (const double v : p.x) xmax = std::max(xmax, std::abs(v));
  const double xs = max_abs_scale(xmax);
  const auto per_o = static_cast<std::size_t>(p.cin * p.R * p.R);
  std::vector<double> wscale(static_cast<std::size_t>(p.cout));
  for (std::size_t o = 0; o < wscale.size(); ++o) {
    double wmax = 0;
    for (std::size_t k = 0; k < per_o; ++k) wmax = std::max(wmax, std::abs(p.w[o * per_o + k]));
    wscale[o] = max_abs_scale(wmax);
  }
  std::vector<std::int64_t> xq(p.x.size()), wq(p.w.size());
  for (std::size_t k = 0; k < xq.size(); ++k) xq[k] = quantize8(p.x[k], xs);
  for (std::size_t k = 0; k < wq.size(); ++k) wq[k] = quantize8(p.w[k], wscale[k / per_o]);
  std::vector<double> y(p.outputs());
  for (int t = 0; t < p.tiles; ++t)
    for (int o = 0; o < p.cout; ++o)
      for (int a = 0; a < p.M; ++a)
        for (int b = 0; b < p.M; ++b) {
          std::int64_t acc = 0;
          for (int i = 0; i < p.cin; ++i)
            for (int u = 0; u < p.R; ++u)
              for (int v = 0; v < p.R; ++v)
                acc += xq[p.xi(t, i) + static_cast<std::size_t>((a + u) * p.L + b + v)] *
                       wq[p.wi(o, i) + static_cast<std::size_t>(u * p.R + v)];
          y[p.yi(t, o) + static_cast<std::size_t>(a * p.M + b)] =
              static_cast<double>(acc) * xs * wscale[static_cast<std::size_t>(o)];
        }
  return y;
}

double rms_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
  return std::sqrt(s / static_cast<double>(a.size()));
}

// ---------------------------------------------------------------------------
// Results.
// ---------------------------------------------------------------------------

/// One measurement: RMS errors (relative to the reference's RMS) and their ratio.
struct Cell {
  double alg = 0, direct = 0;
  double ratio() const { return alg / direct; }
};

enum Arith { kFp16, kFp16Fp32, kInt8, kArith };
constexpr const char* kArithKey[kArith] = {"fp16", "fp16_fp32acc", "int8_transform"};
constexpr const char* kDistKey[2] = {"normal", "nonneg"};

struct Row {
  std::string name, display;
  bool is_sfc = false;
  int M = 0, R = 0, T = 0, tiles = 0;
  Cell cell[kArith][2];
  double stage_error = 0;  ///< the stages in double against the reference (relative RMS)
  double mults_per_output() const { return static_cast<double>(T) / (M * M); }
};

// Conversions of the inputs and storage roundings of transformed values.
Half to_half(double v) { return Half(v); }
Half keep_half(Half v) { return v; }
float half_in_float(double v) { return static_cast<float>(sfc::round_to_half(v)); }
float store_half_in_float(float v) { return static_cast<float>(sfc::round_to_half(v)); }
float keep_float(float v) { return v; }

/// Every cell of one algorithm's row (run-time plan: one instantiation for all).
void measure(const sfc::Plan2D& plan, const Options& o, Row& row) {
  row.M = plan.M;
  row.R = plan.R;
  row.T = plan.T;
  for (int d = 0; d < 2; ++d) {
    const Problem p = make_problem(plan, o, d == 1);
    row.tiles = p.tiles;
    const double ref_rms = rms_diff(p.ref, std::vector<double>(p.ref.size(), 0.0));
    const auto cell = [&](const std::vector<double>& alg, const std::vector<double>& dir) {
      return Cell{rms_diff(alg, p.ref) / ref_rms, rms_diff(dir, p.ref) / ref_rms};
    };
    const std::vector<double> exact = fast<double>(plan, p, keep_double, keep_double);
    row.stage_error = std::max(row.stage_error, rms_diff(exact, p.ref) / ref_rms);
    row.cell[kFp16][d] = cell(fast<Half>(plan, p, to_half, keep_half),
                              direct<double>(p, sfc::round_to_half, sfc::round_to_half));
    row.cell[kFp16Fp32][d] = cell(fast<float>(plan, p, half_in_float, store_half_in_float),
                                  direct<float>(p, half_in_float, keep_float));
    row.cell[kInt8][d] = cell(fast_int8(plan, p), direct_int8(p));
  }
}

/// The row of algorithm type Alg, run in the 2D form the operators run.
template <class Alg>
Row measure(const Options& o) {
  static const sfc::Plan2D plan = sfc::reference::plan_of<sfc::algorithm_2d_t<Alg>>();
  Row row;
  row.name = Alg::name();
  row.display = Alg::display_name();
  row.is_sfc = sfc::HasSymbolic2D<Alg>;
  measure(plan, o, row);
  return row;
}

std::string number(double v, int digits) {
  if (!std::isfinite(v)) return "null";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string to_json(const Row& r, const Options& o) {
  std::string s = "{\"name\":\"" + r.name + "\",\"display_name\":\"" + r.display +
                  "\",\"family\":\"" + (r.is_sfc ? "sfc" : "winograd") +
                  "\",\"M\":" + std::to_string(r.M) + ",\"R\":" + std::to_string(r.R) +
                  ",\"mults_2d\":" + std::to_string(r.T) +
                  ",\"mults_per_output\":" + number(r.mults_per_output(), 6) +
                  ",\"cin\":" + std::to_string(o.cin) + ",\"cout\":" + std::to_string(o.cout) +
                  ",\"tiles\":" + std::to_string(r.tiles) + ",\"seed\":" + std::to_string(o.seed) +
                  ",\"nonneg_inputs\":\"" + nonneg_name(o.nonneg) + "\"" +
                  ",\"stage_error_double\":" + number(r.stage_error, 3);
  for (int a = 0; a < kArith; ++a) {
    s += std::string(",\"") + kArithKey[a] + "\":{";
    for (int d = 0; d < 2; ++d) {
      const Cell& c = r.cell[a][d];
      s += std::string(d ? "," : "") + "\"" + kDistKey[d] +
           "\":{\"ratio\":" + number(c.ratio(), 9) + ",\"rel_rms_error\":" + number(c.alg, 4) +
           ",\"direct_rel_rms_error\":" + number(c.direct, 4) + "}";
    }
    s += "}";
  }
  return s + "}";
}

void print_table(const std::vector<Row>& rows, const Options& o) {
  std::printf(
      "Normalized error = RMS error / RMS error of direct convolution in the same arithmetic\n"
      "(Cin %d, Cout %d, about %d outputs per output channel and algorithm, seed %llu;\n"
      " inputs N(0,1) and %s, weights N(0, 2/(Cin R^2)); reference: direct convolution\n"
      " in double)\n\n",
      o.cin, o.cout, o.area, static_cast<unsigned long long>(o.seed), nonneg_name(o.nonneg));
  std::printf("%-22s %7s  %-17s  %-17s  %-17s\n", "", "mults/", "fp16 everywhere",
              "fp16 / fp32 acc", "int8 transform");
  std::printf("%-22s %7s  %8s %8s  %8s %8s  %8s %8s\n", "algorithm", "output", "normal", "non-neg",
              "normal", "non-neg", "normal", "non-neg");
  for (const Row& r : rows) {
    std::printf("%-22s %7.2f ", r.display.c_str(), r.mults_per_output());
    for (int a = 0; a < kArith; ++a)
      std::printf(" %8.2f %8.2f", r.cell[a][0].ratio(), r.cell[a][1].ratio());
    std::printf("\n");
  }
  // Direct convolution's own error, for scale: lowest and highest over the rows.
  for (const bool highest : {false, true}) {
    std::printf("%-22s %7s ", highest ? "  (highest)" : "direct: rel. RMS error", "");
    for (int a = 0; a < kArith; ++a)
      for (int d = 0; d < 2; ++d) {
        double v = highest ? 0 : 1e300;
        for (const Row& r : rows)
          v = highest ? std::max(v, r.cell[a][d].direct) : std::min(v, r.cell[a][d].direct);
        std::printf(" %8.1e", v);
      }
    std::printf("\n");
  }
}

// ---------------------------------------------------------------------------
// Checks of the expected shape (DESIGN.md 1.6). Each limit is passed with a
// margin by every run of seeds 1-16 with --quick and seeds 1-4 of the full
// run; the measured extremes are in brackets (docs/numerical_error.md).
// ---------------------------------------------------------------------------
constexpr double kRatioMin = 0.1;        // every ratio: each evaluation really rounds [0.21]
constexpr double kSfcMax = 4.0;          // every SFC ratio, every cell [highest 2.2]
constexpr double kSfc3Spread = 2.5;      // 3x3 SFC, tiles 4, 6, 7: highest / lowest [1.8]
constexpr double kWino43OverSfc3 = 2.0;  // F(4x4, 3x3) / the worst 3x3 SFC, every cell [3.07]
constexpr double kWino27OverSfc = 2.0;   // F(2x2, 7x7) / the worst SFC, every cell [3.15]
// F(2x2, 7x7) / F(4x4, 3x3) > 1 in fp16 / fp32 and in int8 with normal
// inputs [1.71]; in fp16 everywhere direct's own long fp16 sums over
// Cin x 49 terms dominate and the two are close (0.8 .. 1.9), and with
// non-negative int8 inputs the margin is too thin to check (1.1 .. 2.9).

bool check(const std::vector<Row>& rows) {
  bool ok = true;
  const auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "CHECK FAILED: %s\n", what.c_str());
    ok = false;
  };
  const auto find = [&](std::string_view name) -> const Row* {
    for (const Row& r : rows)
      if (r.name == name) return &r;
    return nullptr;
  };
  const Row* w43 = find("wino4_3");
  const Row* w27 = find("wino2_7");
  if (w43 == nullptr || w27 == nullptr) {
    fail("Winograd F(4x4, 3x3) or F(2x2, 7x7) was not measured");
    return ok;
  }
  for (const Row& r : rows) {
    if (!(r.stage_error < 1e-12))
      fail(r.name + ": its stages in double miss the reference by " + number(r.stage_error, 3));
    for (int a = 0; a < kArith; ++a)
      for (int d = 0; d < 2; ++d)
        if (!(r.cell[a][d].ratio() > kRatioMin))
          fail(r.name + " (" + kArithKey[a] + ", " + kDistKey[d] + "): ratio " +
               number(r.cell[a][d].ratio(), 3) + " is not above " + number(kRatioMin, 3));
  }
  for (int a = 0; a < kArith; ++a)
    for (int d = 0; d < 2; ++d) {
      const std::string where = std::string(" (") + kArithKey[a] + ", " + kDistKey[d] + ")";
      double worst_sfc = 0, worst_sfc3 = 0, best_sfc3 = 1e300;
      for (const Row& r : rows) {
        if (!r.is_sfc) continue;
        const double ratio = r.cell[a][d].ratio();
        if (!(ratio < kSfcMax))
          fail(r.name + where + ": ratio " + number(ratio, 3) + " is not below " +
               number(kSfcMax, 3));
        worst_sfc = std::max(worst_sfc, ratio);
        if (r.R == 3) {
          worst_sfc3 = std::max(worst_sfc3, ratio);
          best_sfc3 = std::min(best_sfc3, ratio);
        }
      }
      if (!(worst_sfc3 < kSfc3Spread * best_sfc3))
        fail("3x3 SFC" + where + ": ratios " + number(best_sfc3, 3) + " .. " +
             number(worst_sfc3, 3) + " are not flat across tile sizes");
      const double r43 = w43->cell[a][d].ratio(), r27 = w27->cell[a][d].ratio();
      if (!(r43 > kWino43OverSfc3 * worst_sfc3))
        fail("Winograd F(4x4, 3x3)" + where + ": ratio " + number(r43, 3) + " is not above " +
             number(kWino43OverSfc3, 3) + " x the worst 3x3 SFC (" + number(worst_sfc3, 3) + ")");
      if (!(r27 > kWino27OverSfc * worst_sfc))
        fail("Winograd F(2x2, 7x7)" + where + ": ratio " + number(r27, 3) + " is not above " +
             number(kWino27OverSfc, 3) + " x the worst SFC (" + number(worst_sfc, 3) + ")");
      if ((a == kFp16Fp32 || (a == kInt8 && d == 0)) && !(r27 > r43))
        fail("Winograd F(2x2, 7x7)" + where + ": ratio " + number(r27, 3) +
             " is not above F(4x4, 3x3)'s " + number(r43, 3));
    }
  return ok;
}

int usage() {
  std::fprintf(stderr,
               "usage: 03_numerical_error [--quick] [--json] [--cin C] [--cout C] [--area A]\n"
               "                          [--seed S] [--nonneg abs|uniform|relu]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  // --quick sets the sizes first, so that other options refine it in any order.
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--quick") {
      o.cin = 64;
      o.cout = 4;
      o.area = 144;
    }
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&](long long lo, long long hi, long long& out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      out = std::strtoll(argv[++i], &end, 10);
      return end != nullptr && *end == '\0' && out >= lo && out <= hi;
    };
    long long v = 0;
    if (a == "--quick") {
      continue;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--cin" && value(1, 4096, v)) {
      o.cin = static_cast<int>(v);
    } else if (a == "--cout" && value(1, 4096, v)) {
      o.cout = static_cast<int>(v);
    } else if (a == "--area" && value(1, 1000000, v)) {
      o.area = static_cast<int>(v);
    } else if (a == "--seed" && value(0, 1LL << 40, v)) {
      o.seed = static_cast<std::uint64_t>(v);
    } else if (a == "--nonneg" && i + 1 < argc) {
      const std::string_view k = argv[++i];
      if (k == "abs")
        o.nonneg = NonNeg::abs;
      else if (k == "uniform")
        o.nonneg = NonNeg::uniform;
      else if (k == "relu")
        o.nonneg = NonNeg::relu;
      else
        return usage();
    } else {
      return usage();
    }
  }

  std::vector<Row> rows;
  rows.push_back(measure<sfc::sfc4_4_3>(o));
  rows.push_back(measure<sfc::sfc6_6_3>(o));
  rows.push_back(measure<sfc::sfc6_7_3>(o));
  rows.push_back(measure<sfc::sfc6_6_5>(o));
  rows.push_back(measure<sfc::sfc6_4_7>(o));
  rows.push_back(measure<sfc::wino2_3>(o));
  rows.push_back(measure<sfc::wino3_3>(o));
  rows.push_back(measure<sfc::wino4_3>(o));
  rows.push_back(measure<sfc::wino2_5>(o));
  rows.push_back(measure<sfc::wino2_7>(o));

  if (o.json) {
    for (const Row& r : rows) std::printf("%s\n", to_json(r, o).c_str());
  } else {
    print_table(rows, o);
  }
  std::fflush(stdout);
  const bool ok = check(rows);
  if (!o.json) std::printf("\n%s\n", ok ? "all checks passed" : "FAILED: see the messages above");
  return ok ? 0 : 1;
}
