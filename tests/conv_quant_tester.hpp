#pragma once
// ConvQuantTester: the frequency-wise quantized operator (QuantizedConv2d)
// against two double-precision references computed here, tile by tile from
// the algorithm's own stage matrices:
//
// 1. the quantized pipeline itself: the same data codes (the operator's
//    multipliers, rounding and clamping, reproduced in scalar float), the
//    operator's weight codes and scales, exact integer sums, the output
//    transform in double. The operator must match it within float rounding
//    of its output transform (f32_tolerance units of 2^-24 x the largest
//    output magnitude); with int8 output, every code must be the correctly
//    rounded, clamped value of that reference (within the same tolerance).
// 2. the float convolution of the same int8 input (input_scale * x) with
//    the float weights. Per output, the quantized result may differ from it
//    by at most
//        sum_q |A_q| sum_c (|d - d^| |u^| + |d| |u - u^|)
//    (d, u: exact transformed data and weights; d^, u^: their dequantized
//    codes; A_q: the output transform's coefficient of slot q for that
//    output), which holds whatever the scales; the test checks it output by
//    output. The relative RMS error against this reference is recorded for
//    the accuracy comparisons (SFC against Winograd).
//
// With threads(n > 1) it also checks that n threads give the same bits.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "conv_case.hpp"
#include "conv_f32_tester.hpp"
#include "sfc/layers/conv2d_quantized.hpp"
#include "sfc/reference/direct_conv.hpp"

namespace sfc::testing {

class ConvQuantTester : public ConvCase<ConvQuantTester> {
 public:
  ConvQuantTester& bits(int data, int weight) {
    params_.data_bits = data;
    params_.weight_bits = weight;
    return *this;
  }
  ConvQuantTester& granularity(WeightGranularity g) { params_.weight_granularity = g; return *this; }
  /// Data scales from observe_max_abs over the test input (default), or the
  /// never-clipping data-free default.
  ConvQuantTester& calibrate(bool on) { calibrate_ = on; return *this; }
  /// One data scale for every slot, `factor` times the calibrated largest
  /// one (factor < 1 clips).
  ConvQuantTester& per_tensor_data_scale(double factor) { tensor_factor_ = factor; return *this; }
  /// Requantized int8 output instead of float.
  ConvQuantTester& int8_output(bool on) { int8_output_ = on; return *this; }
  /// Input codes in [0, 127] (post-ReLU activations) instead of [-128, 127].
  ConvQuantTester& non_negative(bool on) { non_negative_ = on; return *this; }

  /// Relative RMS error of the last test() against the float convolution.
  double relative_rms_error() const { return rms_error_; }

  template <class Algorithm, class Target = simd::Native>
  void test() {
    using Conv = QuantizedConv2d<Algorithm, Target>;
    using A2 = typename Conv::algorithm_2d;
    constexpr int M = Conv::M, R = Conv::R, T = Conv::T;
    if (!Target::supports_q8()) {
      GTEST_SKIP() << Target::name << " quantized kernels are not supported by this CPU";
    }
    const Conv2dShape s = shape_with_kernel(R);
    SCOPED_TRACE(describe(Target::name, s) + " bits " + std::to_string(params_.data_bits) + "/" +
                 std::to_string(params_.weight_bits) + (int8_output_ ? " int8-out" : ""));

    std::mt19937 rng(seed_);
    std::uniform_int_distribution<int> codes(non_negative_ ? 0 : -128, 127);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    std::vector<std::int8_t> x(static_cast<std::size_t>(s.input_elements()));
    std::vector<float> w(static_cast<std::size_t>(s.weight_elements()));
    std::vector<float> b(bias_ ? static_cast<std::size_t>(s.out_channels) : 0);
    for (std::int8_t& v : x) v = static_cast<std::int8_t>(codes(rng));
    for (float& v : w) v = unit(rng);
    for (float& v : b) v = unit(rng);

    QuantizationParams params = params_;
    params.input_scale = 1.0f / 64;
    if (calibrate_ || tensor_factor_ > 0) {
      const std::vector<std::int32_t> max_abs = Conv::observe_max_abs(s, x, options_.input_layout);
      const int qmax = (1 << (params.data_bits - 1)) - 1;
      for (const std::int32_t m : max_abs)
        params.data_scales.push_back(std::max(1, m) * params.input_scale / static_cast<float>(qmax));
      if (tensor_factor_ > 0) {
        const float largest = *std::max_element(params.data_scales.begin(), params.data_scales.end());
        params.data_scales = {static_cast<float>(largest * tensor_factor_)};
      }
    }
    const Conv conv(s, w, b, params, options_);

    // References, in NCHW order: q (quantized pipeline), e (float conv),
    // bound (error bound), mag (magnitude for the rounding tolerance).
    const std::int64_t N = s.batch, Cin = s.in_channels, Cout = s.out_channels;
    const std::int64_t H = s.height, W = s.width, OH = s.output_height(), OW = s.output_width();
    const auto out_n = static_cast<std::size_t>(s.output_elements());
    std::vector<double> q_ref(out_n), bound(out_n), mag(out_n);
    // Output transform coefficients A[(i * M + j) * T + slot].
    std::vector<double> A(static_cast<std::size_t>(M * M * T));
    for (int slot = 0; slot < T; ++slot)
      kernels::transform_output_runtime<A2>(
          [&](int k) { return k == slot ? 1.0 : 0.0; },
          [&](int i, int j, double v) { A[static_cast<std::size_t>((i * M + j) * T + slot)] = v; });
    // Exact transformed weights u[(slot * Cout + o) * Cin + c].
    std::vector<double> u(static_cast<std::size_t>(T * Cout * Cin));
    for (std::int64_t o = 0; o < Cout; ++o)
      for (std::int64_t c = 0; c < Cin; ++c)
        kernels::transform_weights<A2>(
            [&](int ka, int kb) { return static_cast<double>(w[static_cast<std::size_t>(((o * Cin + c) * R + ka) * R + kb)]); },
            [&](int slot, double v) { u[static_cast<std::size_t>((slot * Cout + o) * Cin + c)] = v; });
    const std::pair<std::int32_t, std::int32_t> code_range = conv.data_code_range();
    const std::int32_t lo = code_range.first, hi = code_range.second;
    const auto in_at = [&](std::int64_t n, std::int64_t c, std::int64_t y, std::int64_t xx) -> std::int32_t {
      if (y < 0 || y >= H || xx < 0 || xx >= W) return 0;
      return x[static_cast<std::size_t>(options_.input_layout == Layout::NCHW ? ((n * Cin + c) * H + y) * W + xx
                                                                              : ((n * H + y) * W + xx) * Cin + c)];
    };
    std::vector<std::int32_t> d(static_cast<std::size_t>(Cin * T)), code(static_cast<std::size_t>(Cin * T));
    std::vector<double> prod(T), err(T), prod_mag(T);
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t ty = 0; ty * M < OH; ++ty)
        for (std::int64_t tx = 0; tx * M < OW; ++tx) {
          for (std::int64_t c = 0; c < Cin; ++c)
            kernels::transform_data_runtime<A2>(
                [&](int a, int bb) { return in_at(n, c, ty * M + a - s.pad_top, tx * M + bb - s.pad_left); },
                [&](int slot, double v) {
                  const auto k = static_cast<std::size_t>(c * T + slot);
                  d[k] = static_cast<std::int32_t>(v);
                  const float scaled = static_cast<float>(v) * conv.data_multipliers()[static_cast<std::size_t>(slot)];
                  code[k] = std::clamp(static_cast<std::int32_t>(std::nearbyint(scaled)), lo, hi);
                });
          for (std::int64_t o = 0; o < Cout; ++o) {
            for (int slot = 0; slot < T; ++slot) {
              const double ds = conv.data_scales()[static_cast<std::size_t>(slot)];
              const double ws = conv.weight_scale(slot, o);
              std::int64_t acc = 0;
              double e = 0, pm = 0;
              for (std::int64_t c = 0; c < Cin; ++c) {
                const auto k = static_cast<std::size_t>(c * T + slot);
                const std::int32_t wc = conv.weight_code(slot, o, c);
                acc += std::int64_t{code[k]} * wc;
                const double dr = params.input_scale * static_cast<double>(d[k]), dq = code[k] * ds;
                const double ur = u[static_cast<std::size_t>((slot * Cout + o) * Cin + c)], uq = wc * ws;
                e += std::abs(dr - dq) * std::abs(uq) + std::abs(dr) * std::abs(ur - uq);
                pm += std::abs(dq * uq);
              }
              const float combined = conv.data_scales()[static_cast<std::size_t>(slot)] * conv.weight_scale(slot, o);
              prod[static_cast<std::size_t>(slot)] = static_cast<double>(acc) * combined;
              err[static_cast<std::size_t>(slot)] = e;
              prod_mag[static_cast<std::size_t>(slot)] = pm;
            }
            const double bias_o = bias_ ? b[static_cast<std::size_t>(o)] : 0.0;
            for (int i = 0; i < M && ty * M + i < OH; ++i)
              for (int j = 0; j < M && tx * M + j < OW; ++j) {
                double yq = bias_o, eb = 0, mg = std::abs(bias_o);
                for (int slot = 0; slot < T; ++slot) {
                  const double a = A[static_cast<std::size_t>((i * M + j) * T + slot)];
                  yq += a * prod[static_cast<std::size_t>(slot)];
                  eb += std::abs(a) * err[static_cast<std::size_t>(slot)];
                  mg += std::abs(a) * prod_mag[static_cast<std::size_t>(slot)];
                }
                const auto idx = static_cast<std::size_t>(((n * Cout + o) * OH + ty * M + i) * OW + tx * M + j);
                q_ref[idx] = options_.relu ? std::max(0.0, yq) : yq;
                bound[idx] = eb;
                mag[idx] = mg;
              }
          }
        }
    // Float convolution of the dequantized input.
    std::vector<double> xd(x.size()), wd(w.begin(), w.end()), bd(b.begin(), b.end()), e_ref(out_n);
    for (std::size_t i = 0; i < x.size(); ++i) xd[i] = params.input_scale * static_cast<double>(x[i]);
    reference::conv2d_direct(s, std::span<const double>(xd), std::span<const double>(wd),
                             std::span<const double>(bd), std::span<double>(e_ref),
                             options_.input_layout, Layout::NCHW);
    if (options_.relu)
      for (double& v : e_ref) v = std::max(0.0, v);

    // The operator, and its outputs in NCHW order.
    const auto nchw_index = [&](std::size_t i) -> std::size_t {
      if (options_.output_layout == Layout::NCHW) return i;
      const auto C = static_cast<std::size_t>(Cout), HW = static_cast<std::size_t>(OH * OW);
      const std::size_t n = i / (HW * C), rest = i % (HW * C);
      return (n * C + rest % C) * HW + rest / C;
    };
    const double tol = f32_tolerance<Algorithm> * std::ldexp(1.0, -24) *
                       (*std::max_element(mag.begin(), mag.end()) + 1e-30);
    std::size_t failures = 0;
    double err2 = 0, ref2 = 0;
    const float out_scale = 1.0f / 16;
    const auto run = [&](int threads) {
      std::vector<float> y(out_n, std::nanf(""));
      std::vector<std::int8_t> y8(out_n, 0x55);
      if (int8_output_) {
        conv.run(x, y8, out_scale, RunOptions{.threads = threads});
        for (std::size_t i = 0; i < out_n; ++i) y[i] = y8[i];
      } else {
        conv.run(x, y, RunOptions{.threads = threads});
      }
      return y;
    };
    const std::vector<float> y = run(1);
    for (std::size_t i = 0; i < out_n; ++i) {
      const std::size_t k = nchw_index(i);
      if (int8_output_) {
        const double expected = std::clamp(q_ref[k] / out_scale, -128.0, 127.0);
        if (!(std::abs(y[i] - expected) <= 0.5 + tol / out_scale + 1e-9) && failures++ < 5)
          ADD_FAILURE() << "int8 output " << i << ": got " << y[i] << ", expected round(" << expected << ")";
        continue;
      }
      if (!(std::abs(y[i] - q_ref[k]) <= tol) && failures++ < 5)
        ADD_FAILURE() << "output " << i << ": got " << y[i] << ", quantized reference " << q_ref[k]
                      << " (tolerance " << tol << ")";
      if (!(std::abs(y[i] - e_ref[k]) <= bound[k] + tol) && failures++ < 5)
        ADD_FAILURE() << "output " << i << ": error " << std::abs(y[i] - e_ref[k])
                      << " against the float convolution exceeds the bound " << bound[k] + tol;
      err2 += (y[i] - e_ref[k]) * (y[i] - e_ref[k]);
      ref2 += e_ref[k] * e_ref[k];
    }
    EXPECT_EQ(failures, 0u);
    rms_error_ = std::sqrt(err2 / (ref2 + 1e-300));
    if (threads_ > 1) {
      const std::vector<float> y2 = run(threads_);
      EXPECT_EQ(0, std::memcmp(y.data(), y2.data(), out_n * sizeof(float)))
          << threads_ << " threads differ from 1 thread";
    }
  }

 private:
  QuantizationParams params_{};
  bool calibrate_ = true;
  double tensor_factor_ = 0;
  bool int8_output_ = false;
  bool non_negative_ = false;
  double rms_error_ = 0;
};

/// The sweep every quantized instantiation goes through: sizes, channels
/// around the vector widths, every padding of each side, layouts, bias,
/// ReLU, int8 output, threads.
template <class Algorithm, class Target = simd::Native>
void sweep_quantized(bool quick = false) {
  constexpr int R = QuantizedConv2d<Algorithm, Target>::R;
  const std::int64_t sizes[] = {1, 2, 7, 13, 29};
  for (const std::int64_t h : sizes)
    for (const std::int64_t w : sizes) {
      if (quick && h != w) continue;
      ConvQuantTester().channels(3, 5).size(h, w).pad(R / 2).seed(static_cast<std::uint32_t>(h * 31 + w))
          .template test<Algorithm, Target>();
    }
  const std::int64_t channels[] = {1, 3, 17, 64};
  for (const std::int64_t cin : channels)
    for (const std::int64_t cout : channels) {
      if (quick && cin != cout) continue;
      ConvQuantTester().batch(2).channels(cin, cout).size(13, 11).pad(R / 2)
          .template test<Algorithm, Target>();
    }
  for (int side = 0; side < 4; ++side)
    for (int p = 0; p < R; ++p) {
      if (quick && p != 0 && p != R - 1) continue;
      std::int64_t pads[4] = {R / 2, R / 2, R / 2, R / 2};
      pads[side] = p;
      ConvQuantTester().channels(2, 3).size(R + 2, R + 3).pad(pads[0], pads[1], pads[2], pads[3])
          .template test<Algorithm, Target>();
    }
  for (const Layout in : {Layout::NCHW, Layout::NHWC})
    for (const Layout out : {Layout::NCHW, Layout::NHWC})
      for (const bool relu : {false, true})
        ConvQuantTester().batch(2).channels(5, 19).size(11, 16).pad(R / 2).layouts(in, out)
            .relu(relu).bias(!relu).int8_output(relu).template test<Algorithm, Target>();
  ConvQuantTester().batch(3).channels(17, 33).size(29, 28).pad(R / 2).threads(2)
      .template test<Algorithm, Target>();
}

}  // namespace sfc::testing
