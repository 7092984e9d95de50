#pragma once
// ConvInt8Tester: the exact int8 operator against direct int8 convolution,
// bit for bit. Set up a case fluently, choose a fill (random or extreme),
// then `test<Algorithm, Target>()` builds the operator, runs it and requires
// every int32 output to equal sfc::reference::conv2d_direct's. With
// threads(n > 1) it also runs n threads and requires the same bits.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sfc/layers/conv2d_int8.hpp"
#include "sfc/reference/direct_conv.hpp"

namespace sfc::testing {

/// How inputs and weights are filled.
enum class Int8Fill {
  random,       ///< uniform over [-128, 127]
  max,          ///< data +127, weights -128 (largest negative sums)
  min,          ///< data -128, weights -128 (largest positive sums)
  alternating,  ///< +127 / -128 alternating in both
};

inline const char* to_string(Int8Fill f) {
  switch (f) {
    case Int8Fill::random: return "random";
    case Int8Fill::max: return "max";
    case Int8Fill::min: return "min";
    case Int8Fill::alternating: return "alternating";
  }
  return "?";
}

class ConvInt8Tester {
 public:
  ConvInt8Tester& batch(std::int64_t n) { shape_.batch = n; return *this; }
  ConvInt8Tester& channels(std::int64_t cin, std::int64_t cout) {
    shape_.in_channels = cin;
    shape_.out_channels = cout;
    return *this;
  }
  ConvInt8Tester& size(std::int64_t h, std::int64_t w) {
    shape_.height = h;
    shape_.width = w;
    return *this;
  }
  ConvInt8Tester& pad(std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right) {
    shape_.pad_top = top;
    shape_.pad_bottom = bottom;
    shape_.pad_left = left;
    shape_.pad_right = right;
    return *this;
  }
  ConvInt8Tester& pad(std::int64_t all) { return pad(all, all, all, all); }
  ConvInt8Tester& layouts(Layout in, Layout out) {
    options_.input_layout = in;
    options_.output_layout = out;
    return *this;
  }
  ConvInt8Tester& relu(bool on) { options_.relu = on; return *this; }
  ConvInt8Tester& bias(bool on) { bias_ = on; return *this; }
  ConvInt8Tester& threads(int n) { threads_ = n; return *this; }
  ConvInt8Tester& seed(std::uint32_t s) { seed_ = s; return *this; }
  ConvInt8Tester& fill(Int8Fill f) { fill_ = f; return *this; }

  template <class Algorithm, class Target = simd::Native>
  void test() const {
    if (!Target::supports_int8()) {
      GTEST_SKIP() << Target::name << " int8 kernels are not supported by this CPU";
    }
    Conv2dShape s = shape_;
    s.kernel_h = s.kernel_w = Conv2d<std::int8_t, Algorithm, Target>::R;
    SCOPED_TRACE(std::string(Target::name) + " " + s.to_string() + " in " +
                 std::string(sfc::to_string(options_.input_layout)) + " out " +
                 std::string(sfc::to_string(options_.output_layout)) + (options_.relu ? " relu" : "") +
                 (bias_ ? " bias" : "") + " fill " + to_string(fill_));

    std::mt19937 rng(seed_);
    std::uniform_int_distribution<int> dist(-128, 127);
    const auto value = [&](std::size_t i, bool weight) -> std::int8_t {
      switch (fill_) {
        case Int8Fill::random: return static_cast<std::int8_t>(dist(rng));
        case Int8Fill::max: return weight ? -128 : 127;
        case Int8Fill::min: return -128;
        case Int8Fill::alternating: return (i % 2 == 0) ? 127 : -128;
      }
      return 0;
    };
    std::vector<std::int8_t> x(static_cast<std::size_t>(s.input_elements()));
    std::vector<std::int8_t> w(static_cast<std::size_t>(s.weight_elements()));
    std::vector<std::int32_t> b(bias_ ? static_cast<std::size_t>(s.out_channels) : 0);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = value(i, false);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = value(i, true);
    std::uniform_int_distribution<std::int32_t> bias_dist(-100000, 100000);
    for (std::int32_t& v : b) v = bias_dist(rng);

    const auto n = static_cast<std::size_t>(s.output_elements());
    std::vector<std::int32_t> y(n, 0x5A5A5A5A), ref(n);
    const Conv2d<std::int8_t, Algorithm, Target> conv(s, w, b, options_);
    conv.run(x, y, RunOptions{.threads = 1});
    reference::conv2d_direct(s, std::span<const std::int8_t>(x), std::span<const std::int8_t>(w),
                             std::span<const std::int32_t>(b), std::span<std::int32_t>(ref),
                             options_.input_layout, options_.output_layout);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t expected = options_.relu ? std::max(0, ref[i]) : ref[i];
      if (y[i] != expected && mismatches++ < 5) {
        ADD_FAILURE() << "output " << i << ": got " << y[i] << ", expected " << expected;
      }
    }
    EXPECT_EQ(mismatches, 0u) << "outputs differ from direct int8 convolution";
    if (threads_ > 1) {
      std::vector<std::int32_t> y2(n, 0);
      conv.run(x, y2, RunOptions{.threads = threads_});
      EXPECT_EQ(y, y2) << threads_ << " threads differ from 1 thread";
    }
  }

 private:
  Conv2dShape shape_{};
  ConvOptions options_{};
  bool bias_ = true;
  int threads_ = 1;
  std::uint32_t seed_ = 4242;
  Int8Fill fill_ = Int8Fill::random;
};

/// The sweep every exact int8 instantiation goes through: sizes, channels
/// around the vector widths, every padding of each side, layouts, bias, ReLU,
/// threads, extreme fills, and input channels beyond the int32 chunk (so the
/// widening path runs on worst-case sums).
template <class Algorithm, class Target = simd::Native>
void sweep_int8(bool quick = false) {
  constexpr int R = Conv2d<std::int8_t, Algorithm, Target>::R;
  const std::int64_t sizes[] = {1, 2, 5, 7, 13, 28, 29};
  for (const std::int64_t h : sizes)
    for (const std::int64_t w : sizes) {
      if (quick && h != w) continue;
      ConvInt8Tester().channels(3, 5).size(h, w).pad(R / 2).seed(static_cast<std::uint32_t>(h * 31 + w))
          .template test<Algorithm, Target>();
    }
  const std::int64_t channels[] = {1, 3, 17, 64};
  for (const std::int64_t cin : channels)
    for (const std::int64_t cout : channels) {
      if (quick && cin != cout) continue;
      ConvInt8Tester().batch(2).channels(cin, cout).size(13, 11).pad(R / 2)
          .template test<Algorithm, Target>();
    }
  for (int side = 0; side < 4; ++side)
    for (int p = 0; p < R; ++p) {
      std::int64_t pads[4] = {R / 2, R / 2, R / 2, R / 2};
      pads[side] = p;
      ConvInt8Tester().channels(2, 3).size(R + 2, R + 3).pad(pads[0], pads[1], pads[2], pads[3])
          .template test<Algorithm, Target>();
    }
  for (const Layout in : {Layout::NCHW, Layout::NHWC})
    for (const Layout out : {Layout::NCHW, Layout::NHWC})
      for (const bool relu : {false, true})
        ConvInt8Tester().batch(2).channels(5, 19).size(11, 16).pad(R / 2).layouts(in, out)
            .relu(relu).bias(!relu).template test<Algorithm, Target>();
  ConvInt8Tester().batch(3).channels(17, 33).size(29, 28).pad(R / 2).threads(2)
      .template test<Algorithm, Target>();
  // Extremes, with more input channels than one int32 sum may hold.
  using Op = Conv2d<std::int8_t, Algorithm, Target>;
  const std::int64_t wide = std::min<std::int64_t>(2 * Op::channels_per_int32_sum + 3, 2048);
  for (const Int8Fill f : {Int8Fill::max, Int8Fill::min, Int8Fill::alternating, Int8Fill::random})
    ConvInt8Tester().channels(wide, 3).size(R + 4, R + 5).pad(R / 2).bias(false).fill(f)
        .template test<Algorithm, Target>();
}

}  // namespace sfc::testing
