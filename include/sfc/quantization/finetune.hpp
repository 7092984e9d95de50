#pragma once
/// \file
/// Fine-tuning of a quantized layer's scales (DESIGN.md 2).
///
/// `finetune_scales<Algorithm>(shape, input, weights, start, options)` takes
/// a layer, a few calibration inputs (float, NCHW, `shape.batch` samples)
/// and starting QuantizationParams (input scale, bits, weight granularity,
/// and max-abs scales, or empty for the defaults below), and returns the
/// data and weight scales that minimize the mean squared error of the
/// layer's output (before bias and activation) against the float layer on
/// those inputs. With `options.power_of_two` (the default, the paper's
/// scheme; `finetune_power_of_two` always sets it) the scales are
/// s = 2^ceil(t); without, s = 2^t, any positive float:
///
/// - the model of the quantized layer is QuantizedConv2d's: int8 input
///   codes, exact integer data transform, b-bit codes per slot
///   (clamp(round(v / s_q), -2^(b-1), 2^(b-1) - 1)), symmetric weight codes
///   per group, exact sums, float output transform;
/// - the gradient with respect to t = log2 s is s ln 2 times
///   round(x / s) - x / s inside the code range, and the range's end
///   (-2^(b-1) or 2^(b-1) - 1) where x / s clips (the straight-through
///   estimator for rounding and for ceil);
/// - t is updated with Adam (steps in log2 units, cosine decay) from t = log2 of the
///   starting scales, which never clip; the best scales seen are returned,
///   so the result is never worse than the starting scales (rounded up to
///   powers of two if so) on the samples that choose.
///
/// The samples that choose are all of them, or with `options.holdout` = h
/// the last h: the first batch - h give the gradient, the last h only pick
/// the iterate returned (early stopping: tuning a handful of samples alone
/// overfits them, and the scales then do worse on other inputs). The
/// holdout runs every `options.holdout_every` iterations and at the last.
///
/// `options.target_input` sets other float inputs whose float layer output
/// is the target (sequential calibration: `input` is what the quantized
/// layers before this one produce, `target_input` what the float model
/// feeds it). The result's `mean_error` is the per-output-channel mean of
/// the quantized layer's error at the returned scales: subtracting it from
/// the bias is bias correction.
///
/// Deterministic: no randomness, and the same inputs give the same scales.
/// The products are float matrix products in a fixed order; a few hundred
/// iterations on a layer with 64 channels and a few dozen samples take
/// seconds.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sfc/core/buffers.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/core/parallel.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"
#include "sfc/kernels/tile_transform.hpp"
#include "sfc/layers/conv2d.hpp"
#include "sfc/layers/conv2d_quantized.hpp"
#include "sfc/layers/tiling.hpp"
#include "sfc/quantization/calibration.hpp"

namespace sfc::quant {

struct FinetuneOptions {
  int iterations = 300;
  /// Adam step, in units of log2 of the scale, at the first iteration; it
  /// decays to 0 along a half cosine.
  double learning_rate = 0.01;
  bool tune_data = true;     ///< fine-tune the data scales
  bool tune_weights = true;  ///< fine-tune the weight scales
  /// Scales s = 2^ceil(t), powers of two (the paper's); false: s = 2^t,
  /// any positive float, starting from the given scales themselves.
  /// finetune_power_of_two always sets it.
  bool power_of_two = true;
  /// Threads (OpenMP; 0 = its default). The result does not depend on it.
  int threads = 0;
  /// The float inputs whose float layer output is the target, when they are
  /// not `input` itself (same shape as `input`; empty: `input`). Sequential
  /// calibration passes here what the float model feeds the layer and as
  /// `input` what the already-quantized layers before it feed it, so that
  /// the scales are tuned on the inputs the quantized layer will see.
  std::span<const float> target_input = {};
  /// The last `holdout` of the shape.batch samples are not tuned on: they
  /// choose the returned scales (the iterate with the smallest output MSE
  /// on them: early stopping, against overfitting a few samples). 0: the
  /// tuning samples choose. Must be less than shape.batch.
  int holdout = 0;
  /// With a holdout, the iterations at which it runs and may choose: every
  /// holdout_every-th, and the last (each costs a forward pass on its
  /// samples). Must be >= 1.
  int holdout_every = 10;
};

struct FinetuneResult {
  /// `start` with the tuned data and weight scales.
  QuantizationParams params;
  /// Output MSE on the samples that choose (the holdout ones, or else all)
  /// with the starting scales (rounded up to powers of two if so).
  double initial_mse = 0;
  /// Output MSE there with the returned scales (the smallest seen).
  double final_mse = 0;
  /// The iteration that gave the returned scales (0: the start).
  int best_iteration = 0;
  /// Per output channel, the mean of (quantized - target) output over the
  /// outputs of all the samples with the returned scales: subtracting it from the
  /// bias removes the layer's systematic error on these inputs (bias
  /// correction).
  std::vector<float> mean_error;
};

namespace detail {

/// c[0, n) += x * b[0, n), a product and a sum per element (never fused):
/// the same result at every optimization level and SIMD target.
inline void axpy(std::int64_t n, float x, const float* b, float* c) {
  using S = sfc::simd::Native;
  if constexpr (std::is_same_v<S, sfc::simd::Portable>) {  // plain loops: the compiler's to vectorize
    for (std::int64_t j = 0; j < n; ++j) c[j] += x * b[j];
    return;
  }
  constexpr std::int64_t W = S::f32_lanes;
  const auto vx = S::broadcast(x);
  std::int64_t j = 0;
  for (; j + W <= n; j += W) S::store(c + j, S::add(S::load(c + j), S::mul(vx, S::load(b + j))));
  for (; j < n; ++j) c[j] += x * b[j];
}

/// C (m x n) = A (m x k) B (k x n), row-major with leading dimensions,
/// for a sparse A: the inner loop runs along rows of B and C (axpy) and
/// skips the zeros of A; it vectorizes without reassociating sums.
inline void gemm_nn_sparse(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                           const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    std::fill(ci, ci + n, 0.0f);
    for (std::int64_t p = 0; p < k; ++p) {
      const float x = a[i * lda + p];
      if (x == 0.0f) continue;
      axpy(n, x, b + p * ldb, ci);
    }
  }
}

/// The same product for a dense A, in register blocks of 4 rows x one
/// vector of C held across the whole sum. Each element is the sum of
/// a[i][p] * b[p][j] in the order of p, products and sums unfused, as in
/// gemm_nn_sparse (up to the sign of zero results, where it adds the zero
/// products that one skips). On the portable target it is gemm_nn_sparse.
inline void gemm_nn(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
                    std::int64_t ldb, float* c, std::int64_t ldc) {
  using S = sfc::simd::Native;
  if constexpr (std::is_same_v<S, sfc::simd::Portable>) {
    gemm_nn_sparse(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  constexpr std::int64_t W = S::f32_lanes;
  constexpr int R = 4;
  std::int64_t i = 0;
  for (; i + R <= m; i += R) {
    const float* ai = a + i * lda;
    float* ci = c + i * ldc;
    std::int64_t j = 0;
    for (; j + W <= n; j += W) {
      typename S::f32 acc[R];
      kernels::static_for<R>([&](auto r) { acc[r] = S::zero(); });
      for (std::int64_t p = 0; p < k; ++p) {
        const auto bv = S::load(b + p * ldb + j);
        kernels::static_for<R>([&](auto r) { acc[r] = S::add(acc[r], S::mul(S::broadcast(ai[r * lda + p]), bv)); });
      }
      kernels::static_for<R>([&](auto r) { S::store(ci + r * ldc + j, acc[r]); });
    }
    for (int r = 0; r < R; ++r)
      for (std::int64_t jj = j; jj < n; ++jj) {
        float sum = 0.0f;
        for (std::int64_t p = 0; p < k; ++p) sum += ai[r * lda + p] * b[p * ldb + jj];
        ci[r * ldc + jj] = sum;
      }
  }
  if (i < m) gemm_nn_sparse(m - i, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
}

/// C (m x n) = A^T B for A (k x m) and B (k x n).
inline void gemm_tn(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
                    std::int64_t ldb, float* c, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
  for (std::int64_t p = 0; p < k; ++p) {
    const float* bp = b + p * ldb;
    for (std::int64_t i = 0; i < m; ++i) {
      const float x = a[p * lda + i];
      if (x == 0.0f) continue;
      axpy(n, x, bp, c + i * ldc);
    }
  }
}

/// s * clamp(round_half_even(x / s), lo, hi) over a block, and the
/// straight-through derivative of that with respect to log2 s, divided by
/// s ln 2: round(x / s) - x / s inside, lo or hi where x / s clips.
inline void fake_quantize(const float* x, std::size_t n, float s, float lo, float hi, float* q, float* dq) {
  const float inv = 1.0f / s;
  for (std::size_t i = 0; i < n; ++i) {
    const float r = x[i] * inv;
    const float code = std::clamp(std::nearbyint(r), lo, hi);
    q[i] = code * s;
    dq[i] = r < lo ? lo : r > hi ? hi : code - r;
  }
}

/// f(i) for i in [0, n) on `threads` threads; every f(i) must write only
/// its own outputs.
template <class F>
void parallel_for(std::int64_t n, int threads, F&& f) {
  (void)threads;
  SFC_OMP(omp parallel for num_threads(threads) schedule(static))
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

/// gemm_nn_sparse for short, wide products (the output transform and its
/// transpose: a few dozen rows of C, tens of thousands of columns), in
/// blocks of columns spread over the threads, so that a block of B stays in
/// cache while every row of C uses it; then `epilogue(j0, width)` on each
/// block. Every element is gemm_nn_sparse's sum, in its order.
template <class F>
void gemm_nn_by_columns(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                        const float* b, std::int64_t ldb, float* c, std::int64_t ldc, int threads, F&& epilogue) {
  constexpr std::int64_t block = 256;
  parallel_for((n + block - 1) / block, threads, [&](std::int64_t j) {
    const std::int64_t j0 = j * block, width = std::min(block, n - j0);
    gemm_nn_sparse(m, width, k, a, lda, b + j0, ldb, c + j0, ldc);
    epilogue(j0, width);
  });
}

inline float power_of_two(double t) { return std::ldexp(1.0f, static_cast<int>(std::ceil(t))); }

/// Range of the tuned log2 scales: 2^t and 2^ceil(t) stay normal floats
/// (sfc::detail::usable_scale), whatever step the optimizer takes.
inline constexpr double kMinLog2Scale = -126, kMaxLog2Scale = 127;

/// Adam on a vector of log2 scales.
struct Adam {
  explicit Adam(std::size_t n) : m(n, 0.0), v(n, 0.0) {}
  void update(std::vector<double>& t, const std::vector<double>& g, double step) {
    ++k;
    constexpr double b1 = 0.9, b2 = 0.999, eps = 1e-12;
    const double c1 = 1 - std::pow(b1, k), c2 = 1 - std::pow(b2, k);
    for (std::size_t i = 0; i < t.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      t[i] -= step * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
      if (std::isnan(t[i])) {
        throw Error(
            "sfc::quant::finetune_scales: the scales diverged (a gradient was not finite); "
            "lower learning_rate");
      }
      t[i] = std::clamp(t[i], kMinLog2Scale, kMaxLog2Scale);
    }
  }
  std::vector<double> m, v;
  int k = 0;
};

}  // namespace detail

template <class Algorithm>
FinetuneResult finetune_scales(const Conv2dShape& shape, std::span<const float> input,
                               std::span<const float> weights, const QuantizationParams& start,
                               const FinetuneOptions& options = {}) {
  using A2 = algorithm_2d_t<Algorithm>;
  constexpr const char* who = "sfc::quant::finetune_scales";
  const auto scale_of = [&](double t) {
    return options.power_of_two ? detail::power_of_two(t) : static_cast<float>(std::exp2(t));
  };
  constexpr int M = A2::M, T = A2::T;
  throw_if_error(shape.validate(), who);
  sfc::detail::check_kernel(who, shape, A2::R);
  sfc::detail::check_buffer(who, "input", input, shape.input_elements());
  sfc::detail::check_buffer(who, "weight", weights, shape.weight_elements());
  sfc::detail::check_finite(who, "input", input.first(static_cast<std::size_t>(shape.input_elements())));
  sfc::detail::check_finite(who, "weight", weights.first(static_cast<std::size_t>(shape.weight_elements())));
  const std::span<const float> target_input = options.target_input.empty() ? input : options.target_input;
  if (!options.target_input.empty()) {
    sfc::detail::check_buffer(who, "target_input", target_input, shape.input_elements());
    sfc::detail::check_finite(who, "target_input",
                              target_input.first(static_cast<std::size_t>(shape.input_elements())));
  }
  if (options.iterations < 0) throw Error(std::string(who) + ": iterations must be >= 0");
  if (options.holdout < 0 || options.holdout >= shape.batch) {
    throw Error(std::string(who) + ": holdout must be in [0, batch), got " + std::to_string(options.holdout));
  }
  if (options.holdout_every < 1) {
    throw Error(std::string(who) + ": holdout_every must be >= 1, got " + std::to_string(options.holdout_every));
  }
  if (!(options.learning_rate > 0) || !std::isfinite(options.learning_rate)) {
    throw Error(std::string(who) + ": learning_rate must be finite and positive");
  }
  const std::int64_t Cout = shape.out_channels;
  sfc::detail::check_granularity(who, start.weight_granularity);
  const auto groups = weight_groups(start.weight_granularity, T, Cout);
  if (!start.data_scales.empty() && start.data_scales.size() != 1 && start.data_scales.size() != T) {
    throw Error(std::string(who) + ": data_scales must hold 0, 1 or " + std::to_string(T) + " values");
  }
  if (!start.weight_scales.empty() && static_cast<std::int64_t>(start.weight_scales.size()) != groups) {
    throw Error(std::string(who) + ": weight_scales must hold 0 or " + std::to_string(groups) + " values");
  }
  for (const int bits : {start.data_bits, start.weight_bits})
    sfc::detail::check_code_bits(who, "data_bits and weight_bits", bits);
  sfc::detail::check_scale(who, "input_scale", start.input_scale);

  // Tiles, as the operators cut them.
  const std::int64_t Cin = shape.in_channels, H = shape.height, W = shape.width;
  const std::int64_t OH = shape.output_height(), OW = shape.output_width();
  const std::int64_t tiles_h = sfc::detail::ceil_div(OH, M), tiles_w = sfc::detail::ceil_div(OW, M);
  const std::int64_t Nt = product_or_throw({shape.batch, tiles_h, tiles_w});
  const auto tile_at = [&](std::int64_t t) {
    return std::array<std::int64_t, 3>{t / (tiles_h * tiles_w), t / tiles_w % tiles_h, t % tiles_w};
  };

  // Transformed data: X[q] (Nt x Cin) of the int8-quantized input (what the
  // operator multiplies, in real units), Xf[q] of the float target input.
  std::vector<std::int8_t> codes(static_cast<std::size_t>(shape.input_elements()));
  quantize(input.first(codes.size()), start.input_scale, codes);
  const auto slot_block = static_cast<std::size_t>(Nt * Cin);
  std::vector<float> X(static_cast<std::size_t>(T) * slot_block), Xf(X.size());
  for (std::int64_t t = 0; t < Nt; ++t) {
    // Named copies, not a structured binding: the lambda below captures them.
    const std::array<std::int64_t, 3> at = tile_at(t);
    const std::int64_t n = at[0], ty = at[1], tx = at[2];
    for (std::int64_t c = 0; c < Cin; ++c) {
      const auto load = [&](auto&& value) {
        return [&, value](int a, int b) -> double {
          const std::int64_t y = ty * M + a - shape.pad_top, x = tx * M + b - shape.pad_left;
          if (y < 0 || y >= H || x < 0 || x >= W) return 0.0;
          return value(static_cast<std::size_t>(((n * Cin + c) * H + y) * W + x));
        };
      };
      const auto dst = static_cast<std::size_t>(t * Cin + c);
      kernels::transform_data_runtime<A2>(load([&](std::size_t i) { return static_cast<double>(codes[i]) * start.input_scale; }),
                                          [&](int q, double v) { X[q * slot_block + dst] = static_cast<float>(v); });
      kernels::transform_data_runtime<A2>(load([&](std::size_t i) { return static_cast<double>(target_input[i]); }),
                                          [&](int q, double v) { Xf[q * slot_block + dst] = static_cast<float>(v); });
    }
  }
  const std::vector<double> u64 = transformed_weights<Algorithm>(shape, weights);
  const std::vector<float> U(u64.begin(), u64.end());  // U[q] (Cout x Cin)
  const auto weight_block = static_cast<std::size_t>(Cout * Cin);

  // The output transform as matrices A (T x M*M) and A^T, and the valid
  // outputs: Y (M*M x cols) = A^T P for products P (T x cols), whose row q
  // is slot q's Nt x Cout block.
  constexpr int MM = M * M;
  const std::int64_t cols = Nt * Cout;  // (tile, output channel)
  std::vector<float> A(static_cast<std::size_t>(T * MM), 0.0f), At(A.size());
  for (int q = 0; q < T; ++q)
    kernels::transform_output_runtime<A2>([&](int p) { return p == q ? 1.0 : 0.0; },
                                          [&](int i, int j, double v) {
                                            A[static_cast<std::size_t>(q * MM + i * M + j)] = static_cast<float>(v);
                                            At[static_cast<std::size_t>((i * M + j) * T + q)] = static_cast<float>(v);
                                          });
  std::vector<float> mask(static_cast<std::size_t>(MM * cols));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j)
      for (std::int64_t t = 0; t < Nt; ++t) {
        const auto [n, ty, tx] = tile_at(t);
        const float valid = ty * M + i < OH && tx * M + j < OW ? 1.0f : 0.0f;
        std::fill_n(mask.begin() + (i * M + j) * cols + t * Cout, Cout, valid);
      }
  const double outputs = static_cast<double>(shape.batch * Cout * OH * OW);
  // Tiles [0, tuned_tiles) belong to the tuning samples, the rest to the
  // holdout ones; their outputs in each row of Y.
  const std::int64_t tuned_tiles = (shape.batch - options.holdout) * tiles_h * tiles_w;
  const auto tuned_cols = static_cast<std::size_t>(tuned_tiles * Cout);
  const double tuned_outputs = static_cast<double>((shape.batch - options.holdout) * Cout * OH * OW);
  const double chosen_outputs = options.holdout > 0 ? outputs - tuned_outputs : tuned_outputs;

  std::vector<float> P(static_cast<std::size_t>(T * cols)), Y(mask.size());
  std::vector<float> Ut(U.size());
  const int threads = sfc::detail::resolve_threads(options.threads, who);
  // P = data x w^T per slot, then Y = A^T P on the valid outputs, of the
  // first `tiles` tiles (the columns of the rest are left as they are).
  const auto forward = [&](const std::vector<float>& data, const std::vector<float>& w, std::int64_t tiles) {
    const std::int64_t n = tiles * Cout;
    detail::parallel_for(T, threads, [&](std::int64_t q) {
      const float* u = w.data() + q * weight_block;
      float* ut = Ut.data() + q * weight_block;
      for (std::int64_t o = 0; o < Cout; ++o)
        for (std::int64_t c = 0; c < Cin; ++c) ut[c * Cout + o] = u[o * Cin + c];
      detail::gemm_nn(tiles, Cout, Cin, data.data() + q * slot_block, Cin, ut, Cout, P.data() + q * cols, Cout);
    });
    detail::gemm_nn_by_columns(MM, n, T, At.data(), T, P.data(), cols, Y.data(), cols, threads,
                               [&](std::int64_t j0, std::int64_t width) {
                                 for (std::int64_t r = 0; r < MM; ++r)
                                   for (std::int64_t i = j0; i < j0 + width; ++i)
                                     Y[static_cast<std::size_t>(r * cols + i)] *=
                                         mask[static_cast<std::size_t>(r * cols + i)];
                               });
  };
  forward(Xf, U, Nt);
  const std::vector<float> target = Y;

  // Scales as log2 values, from the start (or the max-abs defaults).
  const float lo = static_cast<float>(-(max_code(start.data_bits) + 1)), hi = static_cast<float>(max_code(start.data_bits));
  const float wmax = static_cast<float>(max_code(start.weight_bits));
  std::vector<float> data0 = start.data_scales;
  if (data0.empty()) {
    data0.assign(T, 0.0f);
    for (int q = 0; q < T; ++q) {
      float m = 0;
      for (std::size_t i = 0; i < slot_block; ++i) m = std::max(m, std::abs(X[q * slot_block + i]));
      data0[static_cast<std::size_t>(q)] = symmetric_scale(m, start.data_bits);
    }
  }
  std::vector<float> weight0 =
      start.weight_scales.empty() ? weight_scales(u64, T, Cout, start.weight_granularity, start.weight_bits)
                                  : start.weight_scales;
  for (const float s : data0) sfc::detail::check_scale(who, "data scales", s);
  for (const float s : weight0) sfc::detail::check_scale(who, "weight scales", s);
  std::vector<double> td(data0.size()), tw(weight0.size());
  for (std::size_t i = 0; i < td.size(); ++i) td[i] = std::log2(static_cast<double>(data0[i]));
  for (std::size_t i = 0; i < tw.size(); ++i) tw[i] = std::log2(static_cast<double>(weight0[i]));
  const auto data_group = [&](int q) { return data0.size() == 1 ? std::size_t{0} : static_cast<std::size_t>(q); };

  std::vector<float> Xq(X.size()), dXq(X.size()), Uq(U.size()), dUq(U.size());
  std::vector<float> G(P.size()), gradX(X.size()), gradU(U.size());
  std::vector<double> gd_slot(T), gw_slot(static_cast<std::size_t>(T * Cout));
  std::vector<double> gd(td.size()), gw(tw.size());
  detail::Adam adam_d(td.size()), adam_w(tw.size());
  FinetuneResult result;
  result.params = start;
  double best = std::numeric_limits<double>::infinity();
  const double ln2 = std::numbers::ln2;

  for (int it = 0; it <= options.iterations; ++it) {
    // The holdout samples run (and choose) every holdout_every iterations
    // and at the last; the tuning samples run every iteration.
    const bool choose =
        options.holdout == 0 || it % options.holdout_every == 0 || it == options.iterations;
    const std::int64_t run_tiles = choose ? Nt : tuned_tiles;
    // Forward with s = 2^ceil(t) (or 2^t), on the tiles that run.
    detail::parallel_for(T, threads, [&](std::int64_t q) {
      detail::fake_quantize(X.data() + q * slot_block, static_cast<std::size_t>(run_tiles * Cin),
                            scale_of(td[data_group(static_cast<int>(q))]), lo, hi,
                            Xq.data() + q * slot_block, dXq.data() + q * slot_block);
      for (std::int64_t o = 0; o < Cout; ++o) {
        const auto g = static_cast<std::size_t>(weight_group(start.weight_granularity, static_cast<int>(q), o, Cout));
        const auto at = static_cast<std::size_t>(q * Cout + o) * static_cast<std::size_t>(Cin);
        detail::fake_quantize(U.data() + at, static_cast<std::size_t>(Cin), scale_of(tw[g]), -wmax, wmax,
                              Uq.data() + at, dUq.data() + at);
      }
    });
    const std::int64_t run_cols = choose ? cols : static_cast<std::int64_t>(tuned_cols);
    forward(Xq, Uq, run_tiles);
    double tuned_sum = 0, holdout_sum = 0;
    for (std::int64_t r = 0; r < MM; ++r)
      for (std::int64_t c = 0; c < run_cols; ++c) {
        const auto i = static_cast<std::size_t>(r * cols + c);
        Y[i] -= target[i];  // the error E
        const double e2 = static_cast<double>(Y[i]) * Y[i];
        (c < static_cast<std::int64_t>(tuned_cols) ? tuned_sum : holdout_sum) += e2;
      }
    const double mse = (options.holdout > 0 ? holdout_sum : tuned_sum) / chosen_outputs;
    if (it == 0) result.initial_mse = mse;
    if (choose && mse < best) {
      best = mse;
      result.best_iteration = it;
      result.params.data_scales.resize(td.size());
      for (std::size_t i = 0; i < td.size(); ++i) result.params.data_scales[i] = scale_of(td[i]);
      result.params.weight_scales.resize(tw.size());
      for (std::size_t i = 0; i < tw.size(); ++i) result.params.weight_scales[i] = scale_of(tw[i]);
      std::vector<double> err(static_cast<std::size_t>(Cout), 0.0);
      for (std::size_t i = 0; i < Y.size(); ++i) err[i % static_cast<std::size_t>(Cout)] += Y[i];
      result.mean_error.resize(err.size());
      const double per_channel = outputs / static_cast<double>(Cout);
      for (std::size_t o = 0; o < err.size(); ++o) result.mean_error[o] = static_cast<float>(err[o] / per_channel);
    }
    if (it == options.iterations) break;

    // Backward, on the tuning samples' tiles only (the first tuned_tiles):
    // dL/dP = (2 / outputs) A E, then per slot the products' inputs;
    // per-slot partial sums are added in a fixed order.
    const auto gscale = static_cast<float>(2.0 / tuned_outputs);
    const auto tuned = static_cast<std::int64_t>(tuned_cols);
    detail::gemm_nn_by_columns(T, tuned, MM, A.data(), MM, Y.data(), cols, G.data(), cols, threads,
                               [&](std::int64_t j0, std::int64_t width) {
                                 for (std::int64_t q = 0; q < T; ++q)
                                   for (std::int64_t i = j0; i < j0 + width; ++i)
                                     G[static_cast<std::size_t>(q * cols + i)] *= gscale;
                               });
    detail::parallel_for(T, threads, [&](std::int64_t q) {
      const float* g = G.data() + q * cols;  // Nt x Cout, of which tuned_tiles x Cout
      if (options.tune_data) {
        float* gx = gradX.data() + q * slot_block;
        const float* dx = dXq.data() + q * slot_block;
        detail::gemm_nn(tuned_tiles, Cin, Cout, g, Cout, Uq.data() + q * weight_block, Cin, gx, Cin);
        double sum_q = 0;
        for (std::size_t i = 0; i < static_cast<std::size_t>(tuned_tiles * Cin); ++i)
          sum_q += static_cast<double>(gx[i]) * dx[i];
        gd_slot[static_cast<std::size_t>(q)] = sum_q;
      }
      if (options.tune_weights) {
        float* gu = gradU.data() + q * weight_block;
        const float* dw = dUq.data() + q * weight_block;
        detail::gemm_tn(Cout, Cin, tuned_tiles, g, Cout, Xq.data() + q * slot_block, Cin, gu, Cin);
        for (std::int64_t o = 0; o < Cout; ++o) {
          double sum_o = 0;
          for (std::int64_t c = 0; c < Cin; ++c) sum_o += static_cast<double>(gu[o * Cin + c]) * dw[o * Cin + c];
          gw_slot[static_cast<std::size_t>(q * Cout + o)] = sum_o;
        }
      }
    });
    std::fill(gd.begin(), gd.end(), 0.0);
    std::fill(gw.begin(), gw.end(), 0.0);
    for (int q = 0; q < T; ++q) {
      const auto k = data_group(q);
      gd[k] += gd_slot[static_cast<std::size_t>(q)] * ln2 * scale_of(td[k]);
      for (std::int64_t o = 0; o < Cout; ++o) {
        const auto j = static_cast<std::size_t>(weight_group(start.weight_granularity, q, o, Cout));
        gw[j] += gw_slot[static_cast<std::size_t>(q * Cout + o)] * ln2 * scale_of(tw[j]);
      }
    }
    const double step =
        options.learning_rate * 0.5 * (1 + std::cos(std::numbers::pi * it / std::max(1, options.iterations)));
    if (options.tune_data) adam_d.update(td, gd, step);
    if (options.tune_weights) adam_w.update(tw, gw, step);
  }
  result.final_mse = best;
  return result;
}

/// finetune_scales with power-of-two scales (options.power_of_two is
/// ignored: always true).
template <class Algorithm>
FinetuneResult finetune_power_of_two(const Conv2dShape& shape, std::span<const float> input,
                                     std::span<const float> weights, const QuantizationParams& start,
                                     FinetuneOptions options = {}) {
  options.power_of_two = true;
  return finetune_scales<Algorithm>(shape, input, weights, start, options);
}

}  // namespace sfc::quant
