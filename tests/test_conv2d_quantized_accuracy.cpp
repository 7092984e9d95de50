// Frequency-wise quantized operator: accuracy (SFC against Winograd under
// the same quantization, DESIGN.md 1.6), transform bits 8 down to 4, weight
// scale granularities, clipping scales, given scales, and validation of
// every parameter. Every case also runs the checks of ConvQuantTester (the
// quantized reference and the per-output float error bound).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "conv_quant_tester.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace {

using sfc::WeightGranularity;
using sfc::testing::ConvQuantTester;

// Relative RMS error against the float convolution of the same int8 input,
// 8-bit transform domain, per-slot data scales (max-abs over the input),
// per-(slot, channel) weight scales.
template <class Algorithm>
double rms_error(bool non_negative, int bits = 8,
                 WeightGranularity g = WeightGranularity::slot_channel, bool calibrate = true) {
  ConvQuantTester t;
  t.channels(32, 8).size(24, 24).pad(1).bias(false).non_negative(non_negative).bits(bits, bits)
      .granularity(g).calibrate(calibrate).seed(7);
  t.test<Algorithm>();
  return t.relative_rms_error();
}

// The stated bounds (relative RMS error, 8 bits, this case): about twice the
// measured values. SFC's stay several times below Winograd F(4x4, 3x3)'s.
TEST(QuantizedAccuracy, SfcAgainstWinograd) {
  for (const bool non_negative : {false, true}) {
    const double sfc4 = rms_error<sfc::SFC<4, 4, 3>>(non_negative);
    const double sfc6 = rms_error<sfc::SFC<6, 6, 3>>(non_negative);
    const double sfc7 = rms_error<sfc::SFC<6, 7, 3>>(non_negative);
    const double wino2 = rms_error<sfc::Winograd<2, 3>>(non_negative);
    const double wino4 = rms_error<sfc::Winograd<4, 3>>(non_negative);
    std::cout << (non_negative ? "non-negative" : "signed") << " inputs, relative RMS error: SFC-4(4x4) "
              << sfc4 << ", SFC-6(6x6) " << sfc6 << ", SFC-6(7x7) " << sfc7 << ", F(2x2) " << wino2
              << ", F(4x4) " << wino4 << "\n";
    for (const double e : {sfc4, sfc6, sfc7}) EXPECT_LT(3 * e, wino4) << "SFC is not several times more accurate";
  }
}

// Fewer bits, larger errors (the bound of the tester holds at every width).
TEST(QuantizedAccuracy, BitsEightToFour) {
  double previous = 0;
  for (int bits = 8; bits >= 4; --bits) {
    const double e = rms_error<sfc::SFC<6, 7, 3>>(false, bits);
    std::cout << bits << " bits: relative RMS error " << e << "\n";
    EXPECT_GT(e, 1.5 * previous) << bits << " bits";
    previous = e;
  }
  EXPECT_LT(previous, 0.5) << "4-bit error is unusable";
}

// Finer weight scales never hurt here; per (slot, channel) is the finest.
TEST(QuantizedAccuracy, WeightGranularities) {
  const double tensor = rms_error<sfc::SFC<6, 6, 3>>(false, 6, WeightGranularity::tensor);
  const double slot = rms_error<sfc::SFC<6, 6, 3>>(false, 6, WeightGranularity::slot);
  const double channel = rms_error<sfc::SFC<6, 6, 3>>(false, 6, WeightGranularity::channel);
  const double both = rms_error<sfc::SFC<6, 6, 3>>(false, 6, WeightGranularity::slot_channel);
  std::cout << "6 bits: tensor " << tensor << ", slot " << slot << ", channel " << channel
            << ", slot+channel " << both << "\n";
  EXPECT_LE(both, slot);
  EXPECT_LE(both, channel);
  EXPECT_LE(slot, tensor);
  EXPECT_LE(channel, tensor);
}

// The data-free default never clips but is coarse; calibrated scales are
// better.
TEST(QuantizedAccuracy, DataFreeDefaultScales) {
  const double calibrated = rms_error<sfc::SFC<6, 7, 3>>(false, 8, WeightGranularity::slot_channel, true);
  const double data_free = rms_error<sfc::SFC<6, 7, 3>>(false, 8, WeightGranularity::slot_channel, false);
  EXPECT_LT(calibrated, data_free);
}

// One data scale for every slot, a quarter of the largest calibrated one:
// most slots clip. The operator still equals the quantized reference, and
// the error bound (computed from the actual codes) still holds.
TEST(QuantizedAccuracy, ClippingScales) {
  // 1e-4: nearly every code saturates, with products far outside int8.
  for (const double factor : {1e-4, 0.25, 1.0})
    ConvQuantTester().channels(9, 7).size(17, 15).pad(1).per_tensor_data_scale(factor)
        .test<sfc::SFC<6, 6, 3>>();
  ConvQuantTester().channels(9, 7).size(17, 15).pad(1).per_tensor_data_scale(0.25).int8_output(true)
      .test<sfc::Winograd<4, 3>>();
}

using Conv = sfc::QuantizedConv2d<sfc::SFC<6, 7, 3>>;
constexpr int kT = Conv::T;

sfc::Conv2dShape small_shape() { return sfc::Conv2dShape::square(1, 3, 2, 9, 3, 1); }
std::vector<float> weights_of(const sfc::Conv2dShape& s) {
  std::vector<float> w(static_cast<std::size_t>(s.weight_elements()));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) - 3.0f;
  return w;
}

// Given weight scales are used as given, expanded over their granularity,
// and codes are round-half-even(u / s) clamped to +-(2^(b-1) - 1).
TEST(QuantizedParams, GivenWeightScales) {
  const auto s = small_shape();
  const auto w = weights_of(s);
  sfc::QuantizationParams p;
  p.weight_bits = 5;
  p.weight_granularity = WeightGranularity::channel;
  p.weight_scales = {0.5f, 2.0f};
  const Conv conv(s, w, {}, p);
  using A2 = Conv::algorithm_2d;
  for (std::int64_t o = 0; o < 2; ++o)
    for (std::int64_t c = 0; c < 3; ++c)
      sfc::kernels::transform_weights<A2>(
          [&](int a, int b) { return static_cast<double>(w[static_cast<std::size_t>(((o * 3 + c) * 3 + a) * 3 + b)]); },
          [&](int q, double u) {
            ASSERT_EQ(conv.weight_scale(q, o), p.weight_scales[static_cast<std::size_t>(o)]);
            const double expected = std::clamp(std::nearbyint(u / p.weight_scales[static_cast<std::size_t>(o)]), -15.0, 15.0);
            ASSERT_EQ(conv.weight_code(q, o, c), static_cast<std::int32_t>(expected)) << "slot " << q;
          });
  // One data scale for all slots.
  p.data_scales = {0.125f};
  const Conv tensor(s, w, {}, p);
  for (int q = 0; q < kT; ++q) EXPECT_EQ(tensor.data_scales()[static_cast<std::size_t>(q)], 0.125f);
  EXPECT_EQ(tensor.data_multipliers()[0], 1.0f / 0.125f);
}

void expect_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning \"" << fragment << "\"";
  } catch (const sfc::Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(QuantizedErrors, Parameters) {
  const auto s = small_shape();
  const auto w = weights_of(s);
  const auto build = [&](const sfc::QuantizationParams& p) { Conv conv(s, w, {}, p); };
  sfc::QuantizationParams p;
  for (const int bits : {0, 3, 9}) {
    p = {};
    p.data_bits = bits;
    expect_error([&] { build(p); }, "data_bits and weight_bits must be in [4, 8]");
    p = {};
    p.weight_bits = bits;
    expect_error([&] { build(p); }, "data_bits and weight_bits must be in [4, 8]");
  }
  for (const float bad : {0.0f, -1.0f, NAN, INFINITY, 1e-45f}) {
    p = {};
    p.input_scale = bad;
    expect_error([&] { build(p); }, "input_scale must be finite and positive");
    p = {};
    p.data_scales = {bad};
    expect_error([&] { build(p); }, "data scales must be finite and positive");
    p = {};
    p.weight_scales = {bad};
    p.weight_granularity = WeightGranularity::tensor;
    expect_error([&] { build(p); }, "weight scales must be finite and positive");
  }
  p = {};
  p.data_scales = {1.0f, 2.0f};
  expect_error([&] { build(p); }, "data_scales must hold 0, 1 or " + std::to_string(kT) + " values");
  p = {};
  p.weight_granularity = WeightGranularity::slot_channel;
  p.weight_scales.assign(kT, 1.0f);  // needs T * Cout
  expect_error([&] { build(p); }, "weight_scales must hold 0 or " + std::to_string(2 * kT) + " values");
  // Scales whose ratio leaves float range.
  p = {};
  p.input_scale = 1e30f;
  p.data_scales = {1e-30f};
  expect_error([&] { build(p); }, "out of float range");
  // A data scale so small that float(v) * input_scale / data_scale could
  // leave int32 (the codes are rounded from it in int32).
  p = {};
  p.data_scales = {1e-9f};
  expect_error([&] { build(p); }, "is too small for input_scale");
  p.data_scales = {1e-4f};  // large multipliers are fine while they fit
  EXPECT_NO_THROW(build(p));
  p = {};
  p.data_scales = {1e30f};
  p.weight_scales = {1e30f};
  p.weight_granularity = WeightGranularity::tensor;
  expect_error([&] { build(p); }, "is out of range");
}

// Scales that are positive but subnormal are named as such (with %g, not
// "0.000000"); enumerations out of range, accessor indices out of range and
// moved-from plans are refused.
TEST(QuantizedErrors, SubnormalScalesEnumsIndicesAndMovedFrom) {
  const auto s = small_shape();
  const auto w = weights_of(s);
  sfc::QuantizationParams p;
  p.data_scales = {1e-40f};
  expect_error(
      [&] { Conv conv(s, w, {}, p); },
      "data scales must be finite and positive (a normal float, >= 1.17549e-38), got 9.99995e-41");
  p = {};
  p.weight_granularity = static_cast<WeightGranularity>(7);
  expect_error([&] { Conv conv(s, w, {}, p); },
               "weight_granularity is not a WeightGranularity (value 7)");
  expect_error([&] { Conv conv(s, w, {}, {}, {.output_layout = static_cast<sfc::Layout>(5)}); },
               "output_layout is not a Layout (value 5)");
  // Weights too small for any normal scale: the default scales say why.
  const std::vector<float> tiny(w.size(), 1e-37f);
  expect_error([&] { Conv conv(s, tiny, {}, {}); }, "too small or too large to quantize");
  p = {};
  p.data_scales = {1e30f};
  p.weight_scales = {1e30f};
  p.weight_granularity = WeightGranularity::tensor;
  expect_error([&] { Conv conv(s, w, {}, p); }, "at most 2^60");

  Conv a(s, w, {}, {});
  EXPECT_NO_THROW((void)a.weight_scale(kT - 1, 1));
  EXPECT_NO_THROW((void)a.weight_code(kT - 1, 1, 2));
  expect_error([&] { (void)a.weight_scale(kT, 0); },
               "is outside [0, " + std::to_string(kT) + ") x [0, 2) x [0, 3)");
  expect_error([&] { (void)a.weight_scale(0, 2); }, "is outside");
  expect_error([&] { (void)a.weight_scale(-1, 0); }, "is outside");
  expect_error([&] { (void)a.weight_code(0, 0, 3); }, "is outside");
  expect_error([&] { (void)a.weight_code(0, -1, 0); }, "is outside");
  std::vector<std::int8_t> in(static_cast<std::size_t>(s.input_elements()), 5);
  expect_error([&] { (void)Conv::observe_max_abs(s, in, static_cast<sfc::Layout>(3)); },
               "layout is not a Layout (value 3)");
  const Conv b = std::move(a);
  std::vector<float> out(static_cast<std::size_t>(s.output_elements()));
  EXPECT_NO_THROW(b.run(in, out));
  expect_error([&] { a.run(in, out); },
               "run() on a plan that was moved from");  // NOLINT(bugprone-use-after-move)
  expect_error([&] { (void)a.weight_scale(0, 0); },
               "moved from");  // NOLINT(bugprone-use-after-move)
}

TEST(QuantizedErrors, ShapesAndBuffers) {
  const auto s = small_shape();
  auto w = weights_of(s);
  expect_error([&] { Conv(sfc::Conv2dShape::square(1, 3, 2, 9, 5, 2), w, {}, {}); }, "kernel");
  expect_error([&] { Conv(s, std::span<const float>(w).first(w.size() - 1), {}, {}); }, "weight");
  const std::vector<float> short_bias{1.0f};
  expect_error([&] { Conv(s, w, short_bias, {}); }, "bias");
  w[4] = NAN;
  expect_error([&] { Conv(s, w, {}, {}); }, "not finite");
  w[4] = 0;
  const auto wide = sfc::Conv2dShape::square(1, 32769, 1, 3, 3, 1);
  const std::vector<float> wide_w(static_cast<std::size_t>(wide.weight_elements()));
  expect_error([&] { Conv(wide, wide_w, {}, {}); }, "exceeds 32768");
  expect_error([&] { Conv(s, w, {}, {}, {.weight_path = sfc::WeightPath::on_the_fly}); },
               "weight_path = on_the_fly is offered by the fp32 and exact int8 operators only");

  const Conv conv(s, w, {}, {});
  std::vector<std::int8_t> in(static_cast<std::size_t>(s.input_elements()));
  std::vector<float> out(static_cast<std::size_t>(s.output_elements()));
  std::vector<std::int8_t> out8(out.size());
  expect_error([&] { conv.run(std::span<const std::int8_t>(in).first(in.size() - 1), out); }, "input");
  expect_error([&] { conv.run(in, std::span<float>(out).first(out.size() - 1)); }, "output");
  expect_error([&] { conv.run(in, std::span<std::int8_t>(out8).first(out8.size() - 1), 1.0f); }, "output");
  for (const float bad : {0.0f, -2.0f, NAN, INFINITY, 1e-45f})
    expect_error([&] { conv.run(in, out8, bad); }, "output_scale must be finite and positive");
  std::vector<std::byte> ws(conv.workspace_size());
  EXPECT_NO_THROW(conv.run(in, out, ws));
  EXPECT_NO_THROW(conv.run(in, out8, 0.5f, ws));
  expect_error([&] { conv.run(in, out, std::span<std::byte>(ws).first(ws.size() - 1)); }, "workspace");
  expect_error([&] { Conv::observe_max_abs(s, std::span<const std::int8_t>(in).first(3)); }, "input");
}

}  // namespace
