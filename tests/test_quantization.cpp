// Calibration, power-of-two fine-tuning and cost metrics
// (sfc/quantization/): statistics against the operator's own observation,
// scales against the operator's defaults, the fine-tuner's model of the
// quantized layer against the operator, and operation counts against the
// algorithms' multiplication counts.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "sfc/layers/conv2d_quantized.hpp"
#include "sfc/quantization/calibration.hpp"
#include "sfc/quantization/finetune.hpp"
#include "sfc/quantization/metrics.hpp"
#include "sfc/reference/direct_conv.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

using Alg = sfc::SFC<6, 7, 3>;
using Op = sfc::QuantizedConv2d<Alg>;
constexpr int T = Op::T;

std::vector<float> random_floats(std::size_t n, std::uint32_t seed, bool non_negative, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = non_negative ? std::abs(d(rng)) : d(rng);
  return v;
}

TEST(Quantize, RoundsHalfToEvenAndClamps) {
  const std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 1.49f, 300.0f, -300.0f, 127.5f, -128.5f};
  std::vector<std::int8_t> q(x.size());
  sfc::quant::quantize(x, 1.0f, q);
  EXPECT_EQ(q, (std::vector<std::int8_t>{0, 2, 2, 0, -2, 1, 127, -128, 127, -128}));
  sfc::quant::quantize(std::vector<float>{0.75f}, 0.5f, q);
  EXPECT_EQ(q[0], 2);  // 1.5 -> 2
}

TEST(Quantize, Errors) {
  std::vector<std::int8_t> q(2);
  const std::vector<float> x = {1.0f, 2.0f};
  EXPECT_THROW(sfc::quant::quantize(x, 0.0f, q), sfc::Error);
  EXPECT_THROW(sfc::quant::quantize(x, std::numeric_limits<float>::infinity(), q), sfc::Error);
  EXPECT_THROW(sfc::quant::quantize(x, 1.0f, std::span<std::int8_t>(q).first(1)), sfc::Error);
  EXPECT_THROW(sfc::quant::quantize(std::vector<float>{1.0f, std::nanf("")}, 1.0f, q), sfc::Error);
  EXPECT_THROW(sfc::quant::symmetric_scale(-1.0, 8), sfc::Error);
  EXPECT_THROW(sfc::quant::symmetric_scale(1.0, 1), sfc::Error);
  EXPECT_EQ(sfc::quant::symmetric_scale(0.0, 8), 1.0f);
  EXPECT_EQ(sfc::quant::symmetric_scale(254.0, 8), 2.0f);
  EXPECT_EQ(sfc::quant::symmetric_scale(14.0, 4), 2.0f);
  // Scales that are not normal floats: a subnormal one (1 / scale is
  // infinite), and a range too large or too small for a float scale.
  EXPECT_THROW(sfc::quant::quantize(x, 1e-40f, q), sfc::Error);
  EXPECT_THROW(sfc::quant::symmetric_scale(1e41, 8), sfc::Error);
  EXPECT_THROW(sfc::quant::symmetric_scale(1e-40, 8), sfc::Error);
  EXPECT_EQ(sfc::quant::symmetric_scale(127e37, 8), 1e37f);
}

TEST(SlotStatistics, MinMaxAndExactPercentiles) {
  sfc::quant::SlotStatistics s(2);
  EXPECT_EQ(s.percentile_abs(0, 1.0), 0);
  for (int v = -50; v < 50; ++v) s.add(std::vector<std::int32_t>{v, 3 * v + 1});
  EXPECT_EQ(s.count(), 100);
  EXPECT_EQ(s.min(0), -50);
  EXPECT_EQ(s.max(0), 49);
  EXPECT_EQ(s.max_abs(0), 50);
  EXPECT_EQ(s.min(1), -149);
  EXPECT_EQ(s.max(1), 148);
  EXPECT_EQ(s.percentile_abs(0, 1.0), 50);
  // |v| for v in [-50, 49]: 0 once, 1..49 twice, 50 once; 99 values <= 49.
  EXPECT_EQ(s.percentile_abs(0, 0.99), 49);
  EXPECT_EQ(s.percentile_abs(0, 0.5), 25);  // 1 + 2 * 24 = 49 values <= 24, 51 <= 25
  EXPECT_EQ(s.percentile_abs(0, 0.01), 0);
  EXPECT_THROW(s.percentile_abs(0, 0.0), sfc::Error);
  EXPECT_THROW(s.percentile_abs(0, 1.5), sfc::Error);
  EXPECT_THROW(s.add(std::vector<std::int32_t>{1}), sfc::Error);
  EXPECT_THROW(sfc::quant::SlotStatistics(0), sfc::Error);
}

// Values beyond 2^20 in magnitude (INT32_MIN's magnitude overflowed int32;
// 2^30 sized a histogram of 8 GiB) are refused.
TEST(SlotStatistics, RefusesValuesBeyondTheHistogram) {
  sfc::quant::SlotStatistics stats(2);
  constexpr std::int32_t kMax = sfc::quant::SlotStatistics::kMaxAbsValue;
  EXPECT_THROW(stats.add(std::vector<std::int32_t>{0, std::numeric_limits<std::int32_t>::min()}),
               sfc::Error);
  EXPECT_THROW(stats.add(std::vector<std::int32_t>{1 << 30, 0}), sfc::Error);
  EXPECT_THROW(stats.add(std::vector<std::int32_t>{kMax + 1, 0}), sfc::Error);
  EXPECT_EQ(stats.count(), 0);  // a refused record leaves no trace
  stats.add(std::vector<std::int32_t>{-kMax, kMax - 1});
  EXPECT_EQ(stats.max_abs(0), kMax);
  EXPECT_EQ(stats.max_abs(1), kMax - 1);
  EXPECT_EQ(stats.percentile_abs(0, 1.0), kMax);
}

// The statistics see exactly the tiles the operator quantizes.
TEST(Calibration, ObserveMatchesTheOperator) {
  const auto shape = sfc::Conv2dShape::square(2, 5, 3, 17, 3, 1);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<std::int8_t> x(static_cast<std::size_t>(shape.input_elements()));
  for (auto& v : x) v = static_cast<std::int8_t>(d(rng));
  sfc::quant::SlotStatistics stats(T);
  sfc::quant::observe<Alg>(shape, x, stats);
  const std::int64_t tiles = 2 * 3 * 3;  // 17 -> 3 tiles of 7 per side
  EXPECT_EQ(stats.count(), tiles * 5);
  const std::vector<std::int32_t> expected = Op::observe_max_abs(shape, x);
  for (int q = 0; q < T; ++q) EXPECT_EQ(stats.max_abs(q), expected[static_cast<std::size_t>(q)]) << "slot " << q;

  // NHWC input gives the same statistics.
  std::vector<std::int8_t> nhwc(x.size());
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 5; ++c)
      for (int i = 0; i < 17 * 17; ++i) nhwc[static_cast<std::size_t>((n * 289 + i) * 5 + c)] = x[static_cast<std::size_t>((n * 5 + c) * 289 + i)];
  sfc::quant::SlotStatistics stats2(T);
  sfc::quant::observe<Alg>(shape, nhwc, stats2, sfc::Layout::NHWC);
  for (int q = 0; q < T; ++q) {
    EXPECT_EQ(stats2.min(q), stats.min(q));
    EXPECT_EQ(stats2.max(q), stats.max(q));
  }
  sfc::quant::SlotStatistics wrong(T - 1);
  EXPECT_THROW(sfc::quant::observe<Alg>(shape, x, wrong), sfc::Error);
  EXPECT_THROW(sfc::quant::observe<Alg>(shape, std::span<const std::int8_t>(x).first(10), stats), sfc::Error);
}

TEST(Calibration, DataScales) {
  sfc::quant::SlotStatistics stats(T);
  std::vector<std::int32_t> v(T);
  for (int k = 0; k < 1000; ++k) {
    for (int q = 0; q < T; ++q) v[static_cast<std::size_t>(q)] = (q == 5) ? 0 : (k % 100) * (q + 1) * (k == 999 ? 10 : 1);
    stats.add(v);
  }
  const float in = 0.5f;
  const auto slot = sfc::quant::data_scales(stats, in, {.bits = 8});
  ASSERT_EQ(slot.size(), static_cast<std::size_t>(T));
  EXPECT_FLOAT_EQ(slot[0], 990 * 0.5f / 127);
  EXPECT_FLOAT_EQ(slot[5], slot[T - 1]);  // an all-zero slot takes the largest range
  const auto tensor = sfc::quant::data_scales(stats, in, {.bits = 8, .granularity = sfc::quant::DataGranularity::tensor});
  ASSERT_EQ(tensor.size(), 1u);
  EXPECT_FLOAT_EQ(tensor[0], slot[T - 1]);
  // The 99.9th percentile drops the one outlier of every slot.
  const auto clipped = sfc::quant::data_scales(stats, in, {.bits = 6, .percentile = 0.999});
  EXPECT_FLOAT_EQ(clipped[0], 99 * 0.5f / 31);
  EXPECT_THROW(sfc::quant::data_scales(stats, in, {.bits = 3}), sfc::Error);
  EXPECT_THROW(sfc::quant::data_scales(stats, 0.0f), sfc::Error);
  EXPECT_THROW(sfc::quant::data_scales(sfc::quant::SlotStatistics(T), in), sfc::Error);
}

// The weight scales are the operator's defaults, at every granularity.
TEST(Calibration, WeightScalesMatchTheOperator) {
  const auto shape = sfc::Conv2dShape::square(1, 6, 5, 7, 3, 1);
  const auto w = random_floats(static_cast<std::size_t>(shape.weight_elements()), 11, false);
  const auto u = sfc::quant::transformed_weights<Alg>(shape, w);
  ASSERT_EQ(u.size(), static_cast<std::size_t>(T * 5 * 6));
  for (const auto g : {sfc::WeightGranularity::tensor, sfc::WeightGranularity::slot, sfc::WeightGranularity::channel,
                       sfc::WeightGranularity::slot_channel}) {
    sfc::QuantizationParams p;
    p.weight_granularity = g;
    p.weight_bits = 6;
    const Op op(shape, w, {}, p);
    const auto scales = sfc::quant::weight_scales(u, T, 5, g, 6);
    EXPECT_EQ(static_cast<std::int64_t>(scales.size()), sfc::quant::weight_groups(g, T, 5));
    for (int q = 0; q < T; ++q)
      for (int o = 0; o < 5; ++o)
        EXPECT_EQ(op.weight_scale(q, o), scales[static_cast<std::size_t>(sfc::quant::weight_group(g, q, o, 5))]);
  }
}

double operator_mse(const sfc::Conv2dShape& shape, const std::vector<float>& x, const std::vector<float>& w,
                    const sfc::QuantizationParams& p) {
  std::vector<float> reference(static_cast<std::size_t>(shape.output_elements())), out(reference.size());
  sfc::reference::conv2d_direct(shape, x, w, {}, reference);
  std::vector<std::int8_t> codes(x.size());
  sfc::quant::quantize(x, p.input_scale, codes);
  const Op op(shape, w, {}, p);
  op.run(codes, out);
  double e = 0;
  for (std::size_t i = 0; i < out.size(); ++i) e += (out[i] - reference[i]) * double{out[i] - reference[i]};
  return e / static_cast<double>(out.size());
}

/// Fine-tuning's starting parameters for inputs `x`: the int8 input scale
/// of their maximum, `bits` for data and weights, default scales.
sfc::QuantizationParams start_params(const std::vector<float>& x, int bits) {
  float max_in = 0;
  for (const float v : x) max_in = std::max(max_in, v);
  sfc::QuantizationParams start;
  start.input_scale = sfc::quant::symmetric_scale(max_in, 8);
  start.data_bits = start.weight_bits = bits;
  return start;
}

// Fine-tuning: powers of two, never worse than the start, better at low
// bit widths, deterministic, and its model of the layer is the operator.
TEST(Finetune, PowerOfTwoScalesLowerTheOutputError) {
  const auto shape = sfc::Conv2dShape::square(2, 12, 12, 14, 3, 1);
  const auto x = random_floats(static_cast<std::size_t>(shape.input_elements()), 5, true);
  const auto w = random_floats(static_cast<std::size_t>(shape.weight_elements()), 6, false, 0.1f);
  for (const int bits : {8, 5}) {
    const sfc::QuantizationParams start = start_params(x, bits);
    const auto r = sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, {.iterations = 120, .threads = 1});
    ASSERT_EQ(r.params.data_scales.size(), static_cast<std::size_t>(T));
    ASSERT_EQ(r.params.weight_scales.size(), static_cast<std::size_t>(T * 12));
    for (const auto* scales : {&r.params.data_scales, &r.params.weight_scales})
      for (const float s : *scales) {
        int e = 0;
        EXPECT_EQ(std::frexp(s, &e), 0.5f) << "not a power of two: " << s;
      }
    std::cout << bits << " bits: output MSE " << r.initial_mse << " -> " << r.final_mse << " (iteration "
              << r.best_iteration << ")\n";
    EXPECT_LE(r.final_mse, r.initial_mse);
    if (bits == 5) {
      EXPECT_LT(r.final_mse, 0.8 * r.initial_mse) << "fine-tuning did not help at 5 bits";
    }
    // The operator with the returned scales has the error the fine-tuner saw.
    const double measured = operator_mse(shape, x, w, r.params);
    EXPECT_NEAR(measured, r.final_mse, 0.05 * r.final_mse);
    // Deterministic, whatever the thread count.
    const auto again = sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, {.iterations = 120, .threads = 2});
    EXPECT_EQ(again.params.data_scales, r.params.data_scales);
    EXPECT_EQ(again.params.weight_scales, r.params.weight_scales);
  }
}

// Free scales (options.power_of_two = false): s = 2^t from the given
// scales themselves, never worse than them, and the operator agrees.
TEST(Finetune, FreeScalesStartFromTheGivenOnes) {
  const auto shape = sfc::Conv2dShape::square(2, 12, 12, 14, 3, 1);
  const auto x = random_floats(static_cast<std::size_t>(shape.input_elements()), 15, true);
  const auto w = random_floats(static_cast<std::size_t>(shape.weight_elements()), 16, false, 0.1f);
  for (const int bits : {8, 5}) {
    sfc::QuantizationParams start = start_params(x, bits);
    // Starting scales that are not powers of two.
    const auto pow2 = sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, {.iterations = 0, .threads = 1});
    start.data_scales = pow2.params.data_scales;
    start.weight_scales = pow2.params.weight_scales;
    for (float& s : start.data_scales) s *= 0.7f;
    for (float& s : start.weight_scales) s *= 0.6f;

    const sfc::quant::FinetuneOptions none{.iterations = 0, .power_of_two = false, .threads = 1};
    const auto r0 = sfc::quant::finetune_scales<Alg>(shape, x, w, start, none);
    ASSERT_EQ(r0.params.data_scales.size(), start.data_scales.size());
    for (std::size_t i = 0; i < start.data_scales.size(); ++i)
      EXPECT_FLOAT_EQ(r0.params.data_scales[i], start.data_scales[i]);
    ASSERT_EQ(r0.params.weight_scales.size(), start.weight_scales.size());
    for (std::size_t i = 0; i < start.weight_scales.size(); ++i)
      EXPECT_FLOAT_EQ(r0.params.weight_scales[i], start.weight_scales[i]);
    EXPECT_NEAR(operator_mse(shape, x, w, start), r0.initial_mse, 0.05 * r0.initial_mse);

    const sfc::quant::FinetuneOptions tune{.iterations = 120, .power_of_two = false, .threads = 1};
    const auto r = sfc::quant::finetune_scales<Alg>(shape, x, w, start, tune);
    EXPECT_EQ(r.initial_mse, r0.initial_mse);
    EXPECT_LE(r.final_mse, r.initial_mse);
    if (bits == 5) {
      EXPECT_LT(r.final_mse, 0.8 * r.initial_mse) << "fine-tuning did not help at 5 bits";
    }
    int not_power_of_two = 0;
    for (const float s : r.params.data_scales) {
      int e = 0;
      not_power_of_two += std::frexp(s, &e) != 0.5f;
    }
    EXPECT_GT(not_power_of_two, 0) << "free scales came out as powers of two";
    EXPECT_NEAR(operator_mse(shape, x, w, r.params), r.final_mse, 0.05 * r.final_mse);
    auto two = tune;
    two.threads = 2;
    const auto again = sfc::quant::finetune_scales<Alg>(shape, x, w, start, two);
    EXPECT_EQ(again.params.data_scales, r.params.data_scales);
    EXPECT_EQ(again.params.weight_scales, r.params.weight_scales);
    // finetune_power_of_two ignores power_of_two = false.
    const auto forced = sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, tune);
    for (const float s : forced.params.data_scales) {
      int e = 0;
      EXPECT_EQ(std::frexp(s, &e), 0.5f) << "not a power of two: " << s;
    }
  }
}

// A holdout: the last samples only choose the iterate returned, every
// holdout_every iterations; the MSEs reported are theirs.
TEST(Finetune, HoldoutChoosesTheIterate) {
  const auto shape = sfc::Conv2dShape::square(4, 8, 8, 14, 3, 1);
  const auto x = random_floats(static_cast<std::size_t>(shape.input_elements()), 25, true);
  const auto w = random_floats(static_cast<std::size_t>(shape.weight_elements()), 26, false, 0.1f);
  sfc::QuantizationParams start = start_params(x, 5);
  {  // explicit starting scales (the max-abs defaults of all the samples)
    const auto s0 = sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, {.iterations = 0, .threads = 1});
    start.data_scales = s0.params.data_scales;
    start.weight_scales = s0.params.weight_scales;
  }
  const sfc::quant::FinetuneOptions options{.iterations = 60, .threads = 1, .holdout = 3, .holdout_every = 7};
  const auto r = sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, options);
  EXPECT_LE(r.final_mse, r.initial_mse);
  EXPECT_TRUE(r.best_iteration % 7 == 0 || r.best_iteration == 60) << r.best_iteration;
  // The reported MSEs are the operator's on the holdout samples (the last 3).
  auto held = shape;
  held.batch = 3;
  const auto per_sample = static_cast<std::size_t>(shape.input_elements() / shape.batch);
  const std::vector<float> xh(x.begin() + static_cast<std::ptrdiff_t>(per_sample), x.end());
  EXPECT_NEAR(operator_mse(held, xh, w, r.params), r.final_mse, 0.05 * r.final_mse);
  const auto r0 = sfc::quant::finetune_power_of_two<Alg>(held, xh, w, start, {.iterations = 0, .threads = 1});
  EXPECT_NEAR(r0.initial_mse, r.initial_mse, 1e-6 * r.initial_mse);
  // Deterministic across threads.
  auto two = options;
  two.threads = 2;
  const auto again = sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, two);
  EXPECT_EQ(again.params.weight_scales, r.params.weight_scales);
  EXPECT_EQ(again.best_iteration, r.best_iteration);
  // Errors.
  for (const int bad : {-1, 4, 5}) {
    auto o = options;
    o.holdout = bad;
    EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, o), sfc::Error) << bad;
  }
  auto o = options;
  o.holdout_every = 0;
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, start, o), sfc::Error);
}

// Sequential calibration tunes a layer on the inputs the quantized layers
// before it produce (`input`) against the float layer on the float model's
// inputs (`target_input`); mean_error is the per-channel bias of that
// error, what bias correction subtracts.
TEST(Finetune, TargetInputAndMeanError) {
  const auto shape = sfc::Conv2dShape::square(2, 6, 5, 13, 3, 1);
  const auto x = random_floats(static_cast<std::size_t>(shape.input_elements()), 7, true);
  const auto w = random_floats(static_cast<std::size_t>(shape.weight_elements()), 8, false, 0.2f);
  std::vector<float> shifted = x;  // a systematic input error: the output error has a mean
  for (float& v : shifted) v += 0.25f;
  const sfc::QuantizationParams start = start_params(shifted, 6);
  const sfc::quant::FinetuneOptions base{.iterations = 40, .threads = 1};

  // target_input == input is the default.
  auto same = base;
  same.target_input = shifted;
  const auto r0 = sfc::quant::finetune_power_of_two<Alg>(shape, shifted, w, start, base);
  const auto r1 = sfc::quant::finetune_power_of_two<Alg>(shape, shifted, w, start, same);
  EXPECT_EQ(r0.params.data_scales, r1.params.data_scales);
  EXPECT_EQ(r0.params.weight_scales, r1.params.weight_scales);
  EXPECT_EQ(r0.final_mse, r1.final_mse);
  EXPECT_EQ(r0.mean_error, r1.mean_error);

  // Against the float layer on x: the error the operator makes on `shifted`.
  auto other = base;
  other.target_input = x;
  const auto r = sfc::quant::finetune_power_of_two<Alg>(shape, shifted, w, start, other);
  ASSERT_EQ(r.mean_error.size(), 5u);
  std::vector<float> reference(static_cast<std::size_t>(shape.output_elements())), out(reference.size());
  sfc::reference::conv2d_direct(shape, x, w, {}, reference);
  std::vector<std::int8_t> codes(shifted.size());
  sfc::quant::quantize(shifted, r.params.input_scale, codes);
  Op(shape, w, {}, r.params).run(codes, out);
  const std::int64_t plane = shape.output_height() * shape.output_width();
  std::vector<double> mean(5, 0.0);
  double mse = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double e = double{out[i]} - reference[i];
    mean[static_cast<std::size_t>((static_cast<std::int64_t>(i) / plane) % 5)] += e;
    mse += e * e;
  }
  mse /= static_cast<double>(out.size());
  EXPECT_NEAR(mse, r.final_mse, 0.05 * r.final_mse);
  EXPECT_GT(mse, 2 * r0.final_mse) << "the target input was not used";
  double largest = 0;
  std::vector<float> corrected(5);
  for (std::size_t o = 0; o < 5; ++o) {
    mean[o] /= static_cast<double>(out.size() / 5);
    largest = std::max(largest, std::abs(mean[o]));
    EXPECT_NEAR(r.mean_error[o], mean[o], 0.02 * std::sqrt(mse)) << "channel " << o;
    corrected[o] = -r.mean_error[o];
  }
  EXPECT_GT(largest, 0.1 * std::sqrt(mse)) << "the shift should bias the output";
  // Bias correction: the corrected operator's error has no mean and less MSE.
  Op(shape, w, corrected, r.params).run(codes, out);
  double corrected_mse = 0;
  for (std::size_t i = 0; i < out.size(); ++i) corrected_mse += (out[i] - reference[i]) * double{out[i] - reference[i]};
  corrected_mse /= static_cast<double>(out.size());
  EXPECT_LT(corrected_mse, mse);
}

TEST(Calibration, ScaleAndArgumentErrors) {
  sfc::quant::SlotStatistics stats(T);
  const auto shape = sfc::Conv2dShape::square(1, 2, 2, 7, 3, 1);
  std::vector<std::int8_t> codes(static_cast<std::size_t>(shape.input_elements()), 100);
  sfc::quant::observe<Alg>(shape, codes, stats);
  EXPECT_THROW(sfc::quant::observe<Alg>(shape, codes, stats, static_cast<sfc::Layout>(5)),
               sfc::Error);
  EXPECT_THROW((void)sfc::quant::data_scales(stats, 1e-40f), sfc::Error);
  EXPECT_THROW((void)sfc::quant::data_scales(stats, 1e38f), sfc::Error);  // scales beyond float
  EXPECT_NO_THROW((void)sfc::quant::data_scales(stats, 1.0f));
  const std::vector<double> u(static_cast<std::size_t>(T * 2 * 2), 0.5);
  using G = sfc::WeightGranularity;
  EXPECT_EQ(sfc::quant::weight_scales(u, T, 2, G::tensor, 8).size(), 1U);
  for (const int bits : {3, 9, 16})
    EXPECT_THROW((void)sfc::quant::weight_scales(u, T, 2, G::tensor, bits), sfc::Error);
  EXPECT_THROW((void)sfc::quant::weight_scales({}, T, 2, G::tensor, 8), sfc::Error);
  EXPECT_THROW((void)sfc::quant::weight_scales(u, T, 2, static_cast<G>(7), 8), sfc::Error);
  auto nan_u = u;
  nan_u[5] = std::nan("");
  EXPECT_THROW((void)sfc::quant::weight_scales(nan_u, T, 2, G::tensor, 8), sfc::Error);
}

TEST(Finetune, Errors) {
  const auto shape = sfc::Conv2dShape::square(1, 2, 2, 7, 3, 1);
  const std::vector<float> x(static_cast<std::size_t>(shape.input_elements()), 0.5f);
  const std::vector<float> w(static_cast<std::size_t>(shape.weight_elements()), 0.25f);
  sfc::QuantizationParams p;
  EXPECT_NO_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, p, {.iterations = 2}));
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, std::span<const float>(x).first(3), w, p), sfc::Error);
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, p, {.iterations = -1}), sfc::Error);
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, p, {.learning_rate = 0}), sfc::Error);
  auto bad = p;
  bad.data_bits = 9;
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, bad), sfc::Error);
  bad = p;
  bad.data_scales = {1.0f, 2.0f};
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, bad), sfc::Error);
  bad = p;
  bad.weight_scales = {1.0f};  // slot_channel needs T * Cout
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, bad), sfc::Error);
  bad = p;
  bad.input_scale = -1;
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, bad), sfc::Error);
  auto nan_input = x;
  nan_input[3] = std::nanf("");
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, nan_input, w, p), sfc::Error);
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, p, {.target_input = std::span<const float>(x).first(3)}),
               sfc::Error);
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, p, {.target_input = nan_input}), sfc::Error);
  // Subnormal scales, which the operator refuses, are refused here too.
  bad = p;
  bad.data_scales = {1e-40f};
  EXPECT_THROW(sfc::quant::finetune_scales<Alg>(shape, x, w, bad, {.power_of_two = false}),
               sfc::Error);
  bad = p;
  bad.weight_granularity = sfc::WeightGranularity::tensor;
  bad.weight_scales = {1e-40f};
  EXPECT_THROW(sfc::quant::finetune_scales<Alg>(shape, x, w, bad, {.power_of_two = false}),
               sfc::Error);
  bad = p;
  bad.input_scale = 1e-40f;
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, bad), sfc::Error);
  bad = p;
  bad.weight_granularity = static_cast<sfc::WeightGranularity>(9);
  EXPECT_THROW(sfc::quant::finetune_power_of_two<Alg>(shape, x, w, bad), sfc::Error);
}

// A learning rate far too large leaves the scales at the ends of the float
// range, not at NaN or infinity: whatever iterate is chosen, the operator
// takes its scales. (Before the log2 scales were clamped, their NaN reached
// an int conversion in power_of_two: the sanitizer pass, whose Clang
// -fsanitize=undefined includes float-cast-overflow, stops there.)
TEST(Finetune, LargeStepsKeepScalesUsable) {
  const auto shape = sfc::Conv2dShape::square(1, 2, 2, 7, 3, 1);
  const auto x = random_floats(static_cast<std::size_t>(shape.input_elements()), 5, false);
  const auto w = random_floats(static_cast<std::size_t>(shape.weight_elements()), 6, false, 0.3f);
  sfc::QuantizationParams p;
  p.input_scale = sfc::quant::symmetric_scale(4.0, 8);
  for (const bool power_of_two : {true, false}) {
    const auto r = sfc::quant::finetune_scales<Alg>(
        shape, x, w, p, {.iterations = 30, .learning_rate = 1e6, .power_of_two = power_of_two});
    EXPECT_TRUE(std::isfinite(r.initial_mse));
    EXPECT_TRUE(std::isfinite(r.final_mse));
    EXPECT_EQ(r.mean_error.size(), 2U);
    for (const float s : r.params.data_scales) EXPECT_TRUE(sfc::detail::usable_scale(s)) << s;
    for (const float s : r.params.weight_scales) EXPECT_TRUE(sfc::detail::usable_scale(s)) << s;
    EXPECT_NO_THROW(Op(shape, w, {}, r.params));
  }
}

TEST(Metrics, CountsMatchTheAlgorithms) {
  const auto shape = sfc::Conv2dShape::square(2, 64, 32, 28, 3, 1);
  const auto direct = sfc::quant::direct_cost(shape);
  EXPECT_EQ(direct.multiplications, 2LL * 32 * 28 * 28 * 64 * 9);
  EXPECT_EQ(direct.accumulations, 2LL * 32 * 28 * 28 * (64 * 9 - 1));
  EXPECT_DOUBLE_EQ(direct.bops, direct.multiplications * 64.0 + direct.accumulations * 32.0);

  // 28 = 4 tiles of 7: exactly 132 multiplications per 49 outputs.
  const auto sfc7 = sfc::quant::fast_cost<Alg>(shape);
  EXPECT_EQ(sfc7.multiplications, 2LL * 16 * 132 * 64 * 32);
  EXPECT_EQ(sfc7.data_transform_scalings, 0);  // ternary data transform
  EXPECT_GT(sfc7.data_transform_additions, 0);
  EXPECT_GT(sfc7.output_transform_additions, 0);
  EXPECT_NEAR(static_cast<double>(direct.multiplications) / sfc7.multiplications, 441.0 / 132, 1e-12);
  EXPECT_LT(sfc7.bops * 2, direct.bops);

  // Winograd F(4x4, 3x3): 36 per 16 outputs (28 = 7 tiles of 4), with
  // non-unit coefficients in its data transform.
  const auto w4 = sfc::quant::fast_cost<sfc::Winograd<4, 3>>(shape);
  EXPECT_EQ(w4.multiplications, 2LL * 49 * 36 * 64 * 32);
  EXPECT_GT(w4.data_transform_scalings, 0);

  // Partial tiles count whole; sums add up.
  const auto odd = sfc::quant::fast_cost<Alg>(sfc::Conv2dShape::square(1, 3, 4, 8, 3, 1));
  EXPECT_EQ(odd.multiplications, 4LL * 132 * 3 * 4);
  auto total = direct;
  total += sfc7;
  EXPECT_EQ(total.multiplications, direct.multiplications + sfc7.multiplications);
  EXPECT_DOUBLE_EQ(total.bops, direct.bops + sfc7.bops);
  EXPECT_THROW(sfc::quant::direct_cost(shape, {.data = 0}), sfc::Error);
  EXPECT_THROW(sfc::quant::fast_cost<Alg>(sfc::Conv2dShape::square(1, 3, 4, 8, 5, 2)), sfc::Error);
}

}  // namespace
