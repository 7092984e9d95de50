#pragma once
// ConvF32Tester: one tester for every fp32 convolution operator. Set up a
// case fluently, then `test<Algorithm, Target>(tolerance)` builds the
// operator, runs it and compares every output with the double-precision
// direct reference:
//
//   |y - y_ref| <= tolerance * 2^-24 * max_outputs (sum_{i,k} |w| |x| + |bias|),
//
// i.e. the error is measured in units of float rounding of the largest output
// magnitude (the quantity direct fp32 convolution's error bound scales
// with). The maximum is taken over the whole output, not per output: a fast
// algorithm mixes a whole tile, so an output near a zero-padded border (few
// non-zero taps, small magnitude) carries rounding errors of its tile's
// larger values.
// With threads(n > 1) it also checks that n threads give bit-identical
// results to one thread. Fixed seeds; failures print the case.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "conv_case.hpp"
#include "sfc/layers/conv2d.hpp"
#include "sfc/reference/direct_conv.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace sfc::testing {

class ConvF32Tester : public ConvCase<ConvF32Tester> {
 public:
  /// Inputs drawn from [0, 1) (post-ReLU activations) instead of [-1, 1).
  ConvF32Tester& non_negative(bool on) { non_negative_ = on; return *this; }

  /// Largest observed |y - y_ref| / (2^-24 * max magnitude) of the last test().
  double worst() const { return worst_; }

  template <class Algorithm, class Target = simd::Native>
  void test(double tolerance) {
    if (!Target::supported()) {
      GTEST_SKIP() << Target::name << " is not supported by this CPU";
    }
    const Conv2dShape s = shape_with_kernel(Conv2d<float, Algorithm, Target>::R);
    SCOPED_TRACE(describe(Target::name, s));

    std::mt19937 rng(seed_);
    std::uniform_real_distribution<float> data(non_negative_ ? 0.0f : -1.0f, 1.0f);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(s.input_elements()));
    std::vector<float> w(static_cast<std::size_t>(s.weight_elements()));
    std::vector<float> b(bias_ ? static_cast<std::size_t>(s.out_channels) : 0);
    for (float& v : x) v = data(rng);
    for (float& v : w) v = unit(rng);
    for (float& v : b) v = unit(rng);

    const auto out_n = static_cast<std::size_t>(s.output_elements());
    std::vector<float> y(out_n, std::nanf(""));
    Conv2d<float, Algorithm, Target> conv(s, w, b, options_);
    if (options_.weight_path != WeightPath::automatic) {
      EXPECT_EQ(conv.weights_on_the_fly(), options_.weight_path == WeightPath::on_the_fly);
    }
    conv.run(x, y, RunOptions{.threads = 1});

    // Reference and per-output magnitude, in double.
    std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), bd(b.begin(), b.end());
    std::vector<double> ref(out_n), mag(out_n);
    reference::conv2d_direct(s, std::span<const double>(xd), std::span<const double>(wd),
                             std::span<const double>(bd), std::span<double>(ref),
                             options_.input_layout, options_.output_layout);
    for (double& v : xd) v = std::abs(v);
    for (double& v : wd) v = std::abs(v);
    for (double& v : bd) v = std::abs(v);
    reference::conv2d_direct(s, std::span<const double>(xd), std::span<const double>(wd),
                             std::span<const double>(bd), std::span<double>(mag),
                             options_.input_layout, options_.output_layout);

    const double unit_roundoff = std::ldexp(1.0, -24);
    worst_ = 0;
    std::size_t failures = 0;
    const double scale = unit_roundoff * *std::max_element(mag.begin(), mag.end()) + 1e-30;
    for (std::size_t i = 0; i < out_n; ++i) {
      const double expected = options_.relu ? std::max(0.0, ref[i]) : ref[i];
      const double err = std::abs(static_cast<double>(y[i]) - expected);
      const double ratio = std::isfinite(err) ? err / scale : INFINITY;
      worst_ = std::max(worst_, ratio);
      if (!(ratio <= tolerance) && failures++ < 5) {
        ADD_FAILURE() << "output " << i << ": got " << y[i] << ", expected " << expected
                      << " (error " << ratio << " units, tolerance " << tolerance << ")";
      }
    }
    EXPECT_EQ(failures, 0u) << "outputs out of tolerance; worst " << worst_ << " units";

    if (threads_ > 1) {
      std::vector<float> y2(out_n, std::nanf(""));
      conv.run(x, y2, RunOptions{.threads = threads_});
      EXPECT_EQ(0, std::memcmp(y.data(), y2.data(), out_n * sizeof(float)))
          << threads_ << " threads differ from 1 thread";
    }
  }

 private:
  bool non_negative_ = false;
  double worst_ = 0;
};

}  // namespace sfc::testing

namespace sfc::testing {

/// Error tolerances in units of 2^-24 x the largest output magnitude (see
/// ConvF32Tester), by algorithm family. Measured worst cases at 28x28 with 3,
/// 64 and 256 input channels, signed and non-negative inputs: SFC 0.4-2.2,
/// Winograd F(2x2,3x3) 0.6-1.3, F(4x4,3x3) 6-17 (DESIGN.md 1.6: SFC's ternary
/// data and weight transforms add almost no error over direct convolution;
/// Winograd's fractional ones amplify it). The bounds leave about 4x margin.
template <class Algorithm>
inline constexpr double f32_tolerance = 8;
template <int M, int R>
inline constexpr double f32_tolerance<Winograd<M, R>> = M <= 2 ? 8 : 64;

/// The sweep every fp32 operator instantiation goes through (see
/// tests/test_conv2d_f32_*.cpp): odd sizes, channel counts around the vector
/// widths, every padding, layouts, bias and ReLU, threads.
template <class Algorithm, class Target = simd::Native>
void sweep_f32(bool quick = false, WeightPath path = WeightPath::automatic) {
  constexpr int R = Conv2d<float, Algorithm, Target>::R;
  constexpr double tol = f32_tolerance<Algorithm>;
  const auto tester = [path] { return ConvF32Tester().weight_path(path); };
  const std::int64_t sizes[] = {1, 2, 5, 7, 13, 28, 29};
  // Sizes (padding R/2, so the output is never empty).
  for (const std::int64_t h : sizes)
    for (const std::int64_t w : sizes) {
      if (quick && h != w) continue;
      tester().channels(3, 5).size(h, w).pad(R / 2).seed(static_cast<std::uint32_t>(h * 31 + w))
          .template test<Algorithm, Target>(tol);
    }
  // Channels, including counts that are not multiples of any vector width.
  const std::int64_t channels[] = {1, 3, 17, 64};
  for (const std::int64_t cin : channels)
    for (const std::int64_t cout : channels) {
      if (quick && cin != cout) continue;
      tester().batch(2).channels(cin, cout).size(13, 11).pad(R / 2)
          .seed(static_cast<std::uint32_t>(cin * 7 + cout)).template test<Algorithm, Target>(tol);
    }
  // Every padding of each side (others at R/2), then corners of the pad cube.
  for (int side = 0; side < 4; ++side)
    for (int p = 0; p < R; ++p) {
      std::int64_t pads[4] = {R / 2, R / 2, R / 2, R / 2};
      pads[side] = p;
      tester().channels(2, 3).size(R + 2, R + 3).pad(pads[0], pads[1], pads[2], pads[3])
          .seed(static_cast<std::uint32_t>(side * 10 + p)).template test<Algorithm, Target>(tol);
    }
  for (const int lo : {0, R - 1})
    for (const int hi : {0, R - 1})
      tester().channels(2, 3).size(R + 1, R + 4).pad(lo, hi, hi, lo)
          .template test<Algorithm, Target>(tol);
  // Layouts, bias, ReLU.
  for (const Layout in : {Layout::NCHW, Layout::NHWC})
    for (const Layout out : {Layout::NCHW, Layout::NHWC})
      for (const bool relu : {false, true})
        tester().batch(2).channels(5, 19).size(11, 16).pad(R / 2).layouts(in, out)
            .relu(relu).bias(!relu).template test<Algorithm, Target>(tol);
  // Threads: 2 threads are bit-identical to 1 (several images and blocks).
  tester().batch(3).channels(17, 33).size(29, 28).pad(R / 2).threads(2)
      .template test<Algorithm, Target>(tol);
}

/// The shorter sweep of one non-native target (tests/test_conv2d_f32_targets
/// and test_conv2d_f32_avx2), with the weights transformed and formed on the
/// fly. What depends on the target (its vector operations, GEMM blocking,
/// the on-the-fly kernel's lanes) is one template for every algorithm, and
/// every algorithm's own maps are swept on the native target (and, in the
/// portable build, as loops on the portable one): here three algorithms
/// cover the target's code paths: the largest 3x3 maps (SFC-6(7x7), 132
/// slots), a 7x7 kernel's 49 taps (SFC-6(4x4, 7x7)) and fractional
/// coefficients (Winograd F(4x4, 3x3)). Each further algorithm would add
/// tens of seconds of compile time per target, and no code of the target's.
template <class Target>
void sweep_target_f32() {
  for (const auto path : {WeightPath::automatic, WeightPath::on_the_fly}) {
    sweep_f32<SFC<6, 7, 3>, Target>(/*quick=*/true, path);
    sweep_f32<SFC<6, 4, 7>, Target>(true, path);
    sweep_f32<Winograd<4, 3>, Target>(true, path);
  }
}

}  // namespace sfc::testing
