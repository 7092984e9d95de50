#pragma once
// ConvInt8Tester: the exact int8 operator against direct int8 convolution,
// bit for bit. Set up a case fluently, choose a fill (random or extreme),
// then `test<Algorithm, Target>()` builds the operator, runs it and requires
// every int32 output to equal sfc::reference::conv2d_direct's. With
// threads(n > 1) it also runs n threads and requires the same bits.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "conv_case.hpp"
#include "sfc/layers/conv2d_int8.hpp"
#include "sfc/layers/requantize.hpp"
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

class ConvInt8Tester : public ConvCase<ConvInt8Tester> {
 public:
  ConvInt8Tester() { seed_ = 4242; }
  ConvInt8Tester& fill(Int8Fill f) { fill_ = f; return *this; }
  /// uint8 input with this zero point (test<..., std::uint8_t>() only).
  ConvInt8Tester& zero_point(std::int32_t z) { zero_point_ = z; return *this; }
  /// Requantization scales per output channel (default) or one for all
  /// (see test's Requantize).
  ConvInt8Tester& per_channel_scales(bool on) { per_channel_scales_ = on; return *this; }

  /// In: std::int8_t, or std::uint8_t (with the zero point; fills map
  /// +127 / -128 to 255 / 0). Requantize: also check the requantized int8
  /// and uint8 outputs (a compile-time choice: it instantiates two more
  /// output stages).
  template <class Algorithm, class Target = simd::Native, class In = std::int8_t,
            bool Requantize = false>
  void test() const {
    using Conv = Conv2d<In, Algorithm, Target>;
    constexpr bool kUnsigned = std::is_same_v<In, std::uint8_t>;
    if (!Target::supports_int8()) {
      GTEST_SKIP() << Target::name << " int8 kernels are not supported by this CPU";
    }
    const Conv2dShape s = shape_with_kernel(Conv::R);
    SCOPED_TRACE(describe(Target::name, s) + " fill " + to_string(fill_) +
                 (kUnsigned ? " uint8, zero point " + std::to_string(zero_point_) : std::string()));

    std::mt19937 rng(seed_);
    std::uniform_int_distribution<int> dist(-128, 127);
    const auto value = [&](std::size_t i, bool weight) -> int {
      switch (fill_) {
        case Int8Fill::random: return dist(rng);
        case Int8Fill::max: return weight ? -128 : 127;
        case Int8Fill::min: return -128;
        case Int8Fill::alternating: return (i % 2 == 0) ? 127 : -128;
      }
      return 0;
    };
    std::vector<In> x(static_cast<std::size_t>(s.input_elements()));
    std::vector<std::int8_t> w(static_cast<std::size_t>(s.weight_elements()));
    std::vector<std::int32_t> b(bias_ ? static_cast<std::size_t>(s.out_channels) : 0);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<In>(value(i, false) + (kUnsigned ? 128 : 0));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int8_t>(value(i, true));
    std::uniform_int_distribution<std::int32_t> bias_dist(-100000, 100000);
    for (std::int32_t& v : b) v = bias_dist(rng);

    const auto n = static_cast<std::size_t>(s.output_elements());
    std::vector<std::int32_t> y(n, 0x5A5A5A5A), ref(n);
    const Conv conv = [&] {
      if constexpr (kUnsigned) {
        return Conv(s, w, b, zero_point_, options_);
      } else {
        return Conv(s, w, b, options_);
      }
    }();
    if (options_.weight_path != WeightPath::automatic) {
      EXPECT_EQ(conv.weights_on_the_fly(), options_.weight_path == WeightPath::on_the_fly);
    }
    conv.run(x, y, RunOptions{.threads = 1});
    if constexpr (kUnsigned) {
      reference::conv2d_direct(s, std::span<const std::uint8_t>(x), zero_point_, std::span<const std::int8_t>(w),
                               std::span<const std::int32_t>(b), std::span<std::int32_t>(ref),
                               options_.input_layout, options_.output_layout);
    } else {
      reference::conv2d_direct(s, std::span<const std::int8_t>(x), std::span<const std::int8_t>(w),
                               std::span<const std::int32_t>(b), std::span<std::int32_t>(ref),
                               options_.input_layout, options_.output_layout);
    }
    if (options_.relu)
      for (std::int32_t& v : ref) v = std::max(0, v);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (y[i] != ref[i] && mismatches++ < 5) {
        ADD_FAILURE() << "output " << i << ": got " << y[i] << ", expected " << ref[i];
      }
    }
    EXPECT_EQ(mismatches, 0u) << "outputs differ from direct convolution";
    if (threads_ > 1) {
      std::vector<std::int32_t> y2(n, 0);
      conv.run(x, y2, RunOptions{.threads = threads_});
      EXPECT_EQ(y, y2) << threads_ << " threads differ from 1 thread";
    }
    if constexpr (Requantize) {
      check_requantized<std::int8_t>(conv, x, ref, s, rng);
      check_requantized<std::uint8_t>(conv, x, ref, s, rng);
    }
  }

 private:
  /// The requantized output against round_half_even(ref * scale) + zero
  /// point, clamped, computed in long double (exact: 31 + 24 bits < 64).
  template <class Out, class Conv, class In>
  void check_requantized(const Conv& conv, const std::vector<In>& x, const std::vector<std::int32_t>& ref,
                         const Conv2dShape& s, std::mt19937& rng) const {
    const std::int64_t channels = s.out_channels;
    SCOPED_TRACE((std::is_same_v<Out, std::int8_t> ? "int8 output" : "uint8 output"));
    // Scales around the magnitude that maps the outputs onto the 8-bit
    // range, so that both rounding and clamping happen.
    std::int64_t largest = 1;
    for (const std::int32_t v : ref) largest = std::max<std::int64_t>(largest, v < 0 ? -std::int64_t{v} : v);
    std::uniform_real_distribution<float> factor(0.5f, 2.0f);
    std::vector<float> scales(per_channel_scales_ ? static_cast<std::size_t>(channels) : 1);
    for (float& v : scales) v = factor(rng) * 100.0f / static_cast<float>(largest);
    const std::int32_t zp = std::is_same_v<Out, std::int8_t> ? -3 : 120;
    const Requantization rq(scales, zp);
    std::vector<Out> y(ref.size());
    conv.run(x, std::span<Out>(y), rq, RunOptions{.threads = threads_});
    const auto H = static_cast<std::size_t>(s.output_height()), W = static_cast<std::size_t>(s.output_width());
    const auto C = static_cast<std::size_t>(channels);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const std::size_t c = options_.output_layout == Layout::NCHW ? i / (H * W) % C : i % C;
      const long double exact = static_cast<long double>(ref[i]) * scales[scales.size() == 1 ? 0 : c];
      const long double v = std::nearbyintl(exact) + zp;
      const auto expected = static_cast<Out>(std::clamp<long double>(v, std::numeric_limits<Out>::min(),
                                                                      std::numeric_limits<Out>::max()));
      if (y[i] != expected && mismatches++ < 5)
        ADD_FAILURE() << "output " << i << ": got " << int{y[i]} << ", expected " << int{expected} << " ("
                      << static_cast<double>(exact) << " + " << zp << ")";
    }
    EXPECT_EQ(mismatches, 0u) << "requantized outputs differ";
  }

  Int8Fill fill_ = Int8Fill::random;
  std::int32_t zero_point_ = 128;
  bool per_channel_scales_ = true;
};

/// The sweep every exact int8 instantiation goes through: sizes, channels
/// around the vector widths, every padding of each side, layouts, bias, ReLU,
/// threads, extreme fills, input channels filling one and two int32 groups
/// and one beyond each (the extremes reach that path's bound in every
/// group; one beyond two groups is the int64 path), and beyond the int32
/// chunk (so the widening path runs on worst-case sums). With the weights
/// on the fly (one int32 group only) the cases beyond one group are left
/// out.
template <class Algorithm, class Target = simd::Native>
void sweep_int8(bool quick = false, WeightPath path = WeightPath::automatic) {
  const auto tester = [path] { return ConvInt8Tester().weight_path(path); };
  const bool one_group = path == WeightPath::on_the_fly;
  constexpr int R = Conv2d<std::int8_t, Algorithm, Target>::R;
  const std::int64_t sizes[] = {1, 2, 5, 7, 13, 28, 29};
  for (const std::int64_t h : sizes)
    for (const std::int64_t w : sizes) {
      if (quick && h != w) continue;
      tester()
          .channels(3, 5)
          .size(h, w)
          .pad(R / 2)
          .seed(static_cast<std::uint32_t>(h * 31 + w))
          .template test<Algorithm, Target>();
    }
  const std::int64_t channels[] = {1, 3, 17, 64};
  for (const std::int64_t cin : channels)
    for (const std::int64_t cout : channels) {
      if (quick && cin != cout) continue;
      tester()
          .batch(2)
          .channels(cin, cout)
          .size(13, 11)
          .pad(R / 2)
          .template test<Algorithm, Target>();
    }
  for (int side = 0; side < 4; ++side)
    for (int p = 0; p < R; ++p) {
      std::int64_t pads[4] = {R / 2, R / 2, R / 2, R / 2};
      pads[side] = p;
      tester()
          .channels(2, 3)
          .size(R + 2, R + 3)
          .pad(pads[0], pads[1], pads[2], pads[3])
          .template test<Algorithm, Target>();
    }
  for (const Layout in : {Layout::NCHW, Layout::NHWC})
    for (const Layout out : {Layout::NCHW, Layout::NHWC})
      for (const bool relu : {false, true})
        tester()
            .batch(2)
            .channels(5, 19)
            .size(11, 16)
            .pad(R / 2)
            .layouts(in, out)
            .relu(relu)
            .bias(!relu)
            .template test<Algorithm, Target>();
  tester()
      .batch(3)
      .channels(17, 33)
      .size(29, 28)
      .pad(R / 2)
      .threads(2)
      .template test<Algorithm, Target>();
  // Extremes at one and two int32 groups and one channel beyond each (the
  // int32 path at its bound, then the next group count or int64).
  using Op = Conv2d<std::int8_t, Algorithm, Target>;
  constexpr std::int64_t group = Op::int32_group_channels;
  for (const std::int64_t cin : {group, group + 1, 2 * group, 2 * group + 1}) {
    if (one_group && cin > group) continue;
    for (const Int8Fill f : {Int8Fill::max, Int8Fill::min, Int8Fill::alternating})
      tester()
          .channels(cin, 2)
          .size(R + 2, R + 1)
          .pad(R / 2)
          .bias(false)
          .fill(f)
          .template test<Algorithm, Target>();
  }
  const std::int64_t wide =
      std::min<std::int64_t>(2 * Op::channels_per_int32_sum + 3, one_group ? group : 2048);
  for (const Int8Fill f : {Int8Fill::max, Int8Fill::min, Int8Fill::alternating, Int8Fill::random})
    tester()
        .channels(wide, 3)
        .size(R + 4, R + 5)
        .pad(R / 2)
        .bias(false)
        .fill(f)
        .template test<Algorithm, Target>();
}

/// The cases about the input type and the output stage, which do not depend
/// on the SIMD target (run them on the native one): requantized outputs,
/// uint8 input with zero points, uint8 extremes beyond one int32 chunk.
template <class Algorithm, class Target = simd::Native>
void sweep_int8_input_output() {
  constexpr int R = Conv2d<std::int8_t, Algorithm, Target>::R;
  // The same with the weights formed on the fly.
  ConvInt8Tester()
      .batch(2)
      .channels(7, 9)
      .size(11, 13)
      .pad(R / 2)
      .zero_point(77)
      .weight_path(WeightPath::on_the_fly)
      .template test<Algorithm, Target, std::uint8_t, true>();
  // Requantized int8 / uint8 outputs, per-channel and per-tensor scales.
  for (const Layout out : {Layout::NCHW, Layout::NHWC})
    ConvInt8Tester().batch(2).channels(6, 21).size(9, 10).pad(R / 2).layouts(Layout::NHWC, out)
        .per_channel_scales(out == Layout::NCHW).template test<Algorithm, Target, std::int8_t, true>();
  // uint8 input with zero points at both ends and the middle; borders pad
  // with the zero point (real zero).
  for (const std::int32_t zp : {0, 128, 255})
    ConvInt8Tester().batch(2).channels(7, 9).size(11, 13).pad(R / 2).zero_point(zp)
        .template test<Algorithm, Target, std::uint8_t, true>();
  // uint8 extremes (0 and 255 against -128 weights, zero points 0 and 255)
  // at one and two int32 groups of the uint8 path and one channel beyond each.
  using OpU8 = Conv2d<std::uint8_t, Algorithm, Target>;
  constexpr std::int64_t group = OpU8::int32_group_channels;
  for (const std::int64_t cin : {group, group + 1, 2 * group, 2 * group + 1})
    for (const Int8Fill f : {Int8Fill::max, Int8Fill::min})
      for (const std::int32_t zp : {0, 255})
        ConvInt8Tester().channels(cin, 2).size(R + 2, R + 1).pad(R / 2).bias(false).fill(f).zero_point(zp)
            .template test<Algorithm, Target, std::uint8_t>();
  const std::int64_t wide_u8 = std::min<std::int64_t>(2 * OpU8::channels_per_int32_sum + 3, 2048);
  for (const Int8Fill f : {Int8Fill::max, Int8Fill::min, Int8Fill::alternating})
    for (const std::int32_t zp : {0, 255})
      ConvInt8Tester().channels(wide_u8, 2).size(R + 2, R + 3).pad(R / 2).bias(false).fill(f).zero_point(zp)
          .template test<Algorithm, Target, std::uint8_t>();
}

}  // namespace sfc::testing
