// Tests for sfc/core (error, checked arithmetic, Conv2dShape) and for the
// reference direct convolution in sfc/reference/direct_conv.hpp.
//
// The reference is checked three ways: against hand-computed results, against
// an independent formulation (explicit zero-padded copy + im2col + dot
// products) on random shapes, and for exact integer extremes. Random data
// always come from std::mt19937 with fixed seeds.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <random>
#include <sfc/core/checked.hpp>
#include <sfc/core/conv_shape.hpp>
#include <sfc/core/error.hpp>
#include <sfc/reference/direct_conv.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using sfc::Conv2dShape;
using sfc::Layout;
using sfc::reference::conv2d_direct;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int32_t kInt32Max = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t kInt32Min = std::numeric_limits<std::int32_t>::min();

std::size_t to_size(std::int64_t n) { return static_cast<std::size_t>(n); }

// Expects `f()` to throw sfc::Error whose message contains every needle.
void expect_error(const std::function<void()>& f, std::initializer_list<std::string_view> needles) {
  try {
    f();
  } catch (const sfc::Error& e) {
    const std::string message = e.what();
    for (const std::string_view needle : needles) {
      EXPECT_NE(message.find(needle), std::string::npos)
          << "message \"" << message << "\" lacks \"" << needle << "\"";
    }
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected sfc::Error, got another exception: " << e.what();
    return;
  }
  ADD_FAILURE() << "expected sfc::Error mentioning \"" << *needles.begin() << "\", nothing thrown";
}

// Expects `status` to be a failure whose message contains every needle.
void expect_failure(const sfc::Status& status, std::initializer_list<std::string_view> needles) {
  ASSERT_FALSE(status.ok()) << "expected a failure mentioning \"" << *needles.begin() << "\"";
  for (const std::string_view needle : needles) {
    EXPECT_NE(status.message().find(needle), std::string::npos)
        << "message \"" << status.message() << "\" lacks \"" << needle << "\"";
  }
}

// ---------------------------------------------------------------------------
// Independent formulation: copy the input (NCHW) into an explicitly
// zero-padded buffer, unfold it into an im2col matrix with one row per
// (i, ky, kx) tap and one column per output pixel, and take the dot product
// of each weight row (OIHW is already row-major over taps) with each column.
// `input` holds values with any zero point already subtracted.
template <class T>
std::vector<T> naive_conv_nchw(const Conv2dShape& s, const std::vector<T>& input,
                               const std::vector<T>& weights, const std::vector<T>& bias) {
  const std::int64_t ph = s.height + s.pad_top + s.pad_bottom;
  const std::int64_t pw = s.width + s.pad_left + s.pad_right;
  const std::int64_t oh = ph - s.kernel_h + 1;
  const std::int64_t ow = pw - s.kernel_w + 1;
  const std::int64_t taps = s.in_channels * s.kernel_h * s.kernel_w;

  std::vector<T> out(to_size(s.batch * s.out_channels * oh * ow));
  for (std::int64_t n = 0; n < s.batch; ++n) {
    std::vector<T> padded(to_size(s.in_channels * ph * pw), T{0});
    for (std::int64_t c = 0; c < s.in_channels; ++c) {
      for (std::int64_t r = 0; r < s.height; ++r) {
        for (std::int64_t q = 0; q < s.width; ++q) {
          padded[to_size((c * ph + r + s.pad_top) * pw + q + s.pad_left)] =
              input[to_size(((n * s.in_channels + c) * s.height + r) * s.width + q)];
        }
      }
    }
    std::vector<T> columns(to_size(taps * oh * ow));
    for (std::int64_t t = 0; t < taps; ++t) {
      const std::int64_t c = t / (s.kernel_h * s.kernel_w);
      const std::int64_t ky = (t / s.kernel_w) % s.kernel_h;
      const std::int64_t kx = t % s.kernel_w;
      for (std::int64_t p = 0; p < oh * ow; ++p) {
        const std::int64_t y = p / ow;
        const std::int64_t x = p % ow;
        columns[to_size(t * oh * ow + p)] = padded[to_size((c * ph + y + ky) * pw + x + kx)];
      }
    }
    for (std::int64_t o = 0; o < s.out_channels; ++o) {
      for (std::int64_t p = 0; p < oh * ow; ++p) {
        T dot = bias.empty() ? T{0} : bias[to_size(o)];
        for (std::int64_t t = 0; t < taps; ++t) {
          dot += weights[to_size(o * taps + t)] * columns[to_size(t * oh * ow + p)];
        }
        out[to_size((n * s.out_channels + o) * oh * ow + p)] = dot;
      }
    }
  }
  return out;
}

// NCHW <-> NHWC conversion of a dense tensor.
template <class T>
std::vector<T> nchw_to_nhwc(const std::vector<T>& src, std::int64_t n_, std::int64_t c_,
                            std::int64_t h_, std::int64_t w_) {
  std::vector<T> dst(src.size());
  for (std::int64_t n = 0; n < n_; ++n)
    for (std::int64_t c = 0; c < c_; ++c)
      for (std::int64_t y = 0; y < h_; ++y)
        for (std::int64_t x = 0; x < w_; ++x)
          dst[to_size(((n * h_ + y) * w_ + x) * c_ + c)] =
              src[to_size(((n * c_ + c) * h_ + y) * w_ + x)];
  return dst;
}

template <class T>
std::vector<T> nhwc_to_nchw(const std::vector<T>& src, std::int64_t n_, std::int64_t c_,
                            std::int64_t h_, std::int64_t w_) {
  std::vector<T> dst(src.size());
  for (std::int64_t n = 0; n < n_; ++n)
    for (std::int64_t c = 0; c < c_; ++c)
      for (std::int64_t y = 0; y < h_; ++y)
        for (std::int64_t x = 0; x < w_; ++x)
          dst[to_size(((n * c_ + c) * h_ + y) * w_ + x)] =
              src[to_size(((n * h_ + y) * w_ + x) * c_ + c)];
  return dst;
}

// Random valid shapes: batch 2, odd and even sizes, kernels 1..5 (not
// necessarily square), padding drawn independently per side in [0, k-1].
std::vector<Conv2dShape> random_shapes(std::uint32_t seed, int count) {
  std::mt19937 rng(seed);
  const auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  const std::int64_t channel_choices[] = {1, 2, 3, 4, 5, 8};
  std::vector<Conv2dShape> shapes;
  while (static_cast<int>(shapes.size()) < count) {
    Conv2dShape s;
    s.batch = 2;
    s.in_channels = channel_choices[pick(0, 5)];
    s.out_channels = channel_choices[pick(0, 5)];
    s.kernel_h = pick(1, 5);
    s.kernel_w = pick(1, 5);
    s.height = pick(1, 9);
    s.width = pick(1, 9);
    s.pad_top = pick(0, s.kernel_h - 1);
    s.pad_bottom = pick(0, s.kernel_h - 1);
    s.pad_left = pick(0, s.kernel_w - 1);
    s.pad_right = pick(0, s.kernel_w - 1);
    if (s.validate().ok()) {  // skip shapes with an empty output
      shapes.push_back(s);
    }
  }
  // Edge cases: 1x1 image with "same" padding, 1x1 kernel, exact fit.
  shapes.push_back(Conv2dShape::square(2, 3, 2, 1, 3, 1));
  shapes.push_back(Conv2dShape::square(2, 5, 7, 6, 1, 0));
  shapes.push_back(Conv2dShape::square(2, 2, 3, 4, 4, 0));
  shapes.push_back(Conv2dShape::same(2, 3, 4, 7, 6, 4, 2));
  return shapes;
}

template <class T, class Dist>
std::vector<T> random_vector(std::mt19937& rng, std::int64_t n, Dist dist) {
  std::vector<T> v(to_size(n));
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

// ---------------------------------------------------------------------------
// Error, Status, checked arithmetic

TEST(Status, SuccessAndFailure) {
  const sfc::Status ok = sfc::Status::success();
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(ok.message().empty());
  EXPECT_NO_THROW(sfc::throw_if_error(ok));

  const sfc::Status bad = sfc::Status::failure("width must be positive");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "width must be positive");
  expect_error([&] { sfc::throw_if_error(bad); }, {"width must be positive"});
  expect_error([&] { sfc::throw_if_error(bad, "my_op"); }, {"my_op: width must be positive"});
}

TEST(Error, IsInvalidArgument) {
  EXPECT_THROW(throw sfc::Error("x"), std::invalid_argument);
  EXPECT_STREQ(sfc::Error("clear message").what(), "clear message");
}

static_assert(sfc::checked_add(2, 3) == 5);
static_assert(!sfc::checked_add(kInt64Max, 1));
static_assert(!sfc::checked_sub(kInt64Min, 1));
static_assert(sfc::checked_mul(-4, 5) == -20);
static_assert(!sfc::checked_mul(std::int64_t{1} << 32, std::int64_t{1} << 31));
static_assert(sfc::checked_product({}) == 1);
static_assert(sfc::checked_product({2, 3, 7}) == 42);
static_assert(sfc::product_or_throw({4, 5, 6}) == 120);
static_assert(sfc::add_or_throw(kInt64Max - 1, 1) == kInt64Max);

TEST(Checked, DetectsOverflow) {
  EXPECT_EQ(sfc::checked_mul(kInt64Max, 1), kInt64Max);
  EXPECT_FALSE(sfc::checked_mul(kInt64Max, 2).has_value());
  EXPECT_FALSE(sfc::checked_mul(kInt64Min, -1).has_value());
  EXPECT_FALSE(sfc::checked_add(kInt64Min, -1).has_value());
  EXPECT_EQ(sfc::checked_sub(0, kInt64Max), -kInt64Max);
  EXPECT_FALSE(sfc::checked_product({1 << 20, 1 << 20, 1 << 20, 1 << 5}).has_value());
  EXPECT_EQ(sfc::checked_product({1 << 20, 1 << 20, 1 << 20, 1 << 2}), std::int64_t{1} << 62);

  expect_error([] { (void)sfc::mul_or_throw(kInt64Max, 2); }, {"overflow", "*"});
  expect_error([] { (void)sfc::add_or_throw(kInt64Max, 1); }, {"overflow", "+"});
  expect_error([] { (void)sfc::sub_or_throw(kInt64Min, 1); }, {"overflow", "-"});
  expect_error([] { (void)sfc::product_or_throw({1 << 30, 1 << 30, 1 << 30}); }, {"overflow"});
}

// ---------------------------------------------------------------------------
// Conv2dShape

static_assert(Conv2dShape{}.output_height() == 1 && Conv2dShape{}.output_width() == 1);
static_assert(Conv2dShape::square(1, 1, 1, 5, 3, 1).output_height() == 5);
static_assert(Conv2dShape::square(2, 3, 4, 5, 3, 0).output_elements() == 2 * 4 * 3 * 3);

TEST(Conv2dShape, BuildersAndSizes) {
  const Conv2dShape s{.batch = 2,
                      .in_channels = 3,
                      .out_channels = 5,
                      .height = 7,
                      .width = 9,
                      .kernel_h = 3,
                      .kernel_w = 4,
                      .pad_top = 2,
                      .pad_bottom = 0,
                      .pad_left = 1,
                      .pad_right = 3};
  EXPECT_TRUE(s.validate().ok()) << s.validate().message();
  EXPECT_EQ(s.padded_height(), 9);
  EXPECT_EQ(s.padded_width(), 13);
  EXPECT_EQ(s.output_height(), 7);
  EXPECT_EQ(s.output_width(), 10);
  EXPECT_EQ(s.input_elements(), 2 * 3 * 7 * 9);
  EXPECT_EQ(s.weight_elements(), 5 * 3 * 3 * 4);
  EXPECT_EQ(s.output_elements(), 2 * 5 * 7 * 10);
  EXPECT_EQ(s.direct_macs(), 2 * 5 * 7 * 10 * 3 * 3 * 4);
  EXPECT_EQ(s.to_string(),
            "Conv2dShape{batch=2, in_channels=3, out_channels=5, height=7, width=9, kernel=3x4, "
            "pad(top,bottom,left,right)=(2,0,1,3)}");

  const Conv2dShape q = Conv2dShape::square(1, 64, 128, 56, 3, 1);
  EXPECT_EQ(q.output_height(), 56);
  EXPECT_EQ(q.output_width(), 56);
  EXPECT_EQ(q, (Conv2dShape{.batch = 1,
                            .in_channels = 64,
                            .out_channels = 128,
                            .height = 56,
                            .width = 56,
                            .kernel_h = 3,
                            .kernel_w = 3,
                            .pad_top = 1,
                            .pad_bottom = 1,
                            .pad_left = 1,
                            .pad_right = 1}));

  for (std::int64_t k = 1; k <= 6; ++k) {
    const Conv2dShape same = Conv2dShape::same(1, 2, 3, 11, 8, k, k + 1);
    EXPECT_TRUE(same.validate().ok()) << same.validate().message();
    EXPECT_EQ(same.output_height(), 11) << "k=" << k;
    EXPECT_EQ(same.output_width(), 8) << "k=" << k;
  }
  const Conv2dShape strided{.stride_h = 2, .dilation_w = 3};
  EXPECT_NE(strided.to_string().find("stride=2x1"), std::string::npos);
  EXPECT_NE(strided.to_string().find("dilation=1x3"), std::string::npos);
}

struct ShapeRule {
  const char* what;
  std::function<void(Conv2dShape&)> mutate;
  std::vector<std::string_view> needles;
};

std::vector<ShapeRule> shape_rules() {
  return {
      {"batch 0", [](Conv2dShape& s) { s.batch = 0; }, {"batch", "positive", "0"}},
      {"in_channels 0", [](Conv2dShape& s) { s.in_channels = 0; }, {"in_channels", "positive"}},
      {"out_channels -1",
       [](Conv2dShape& s) { s.out_channels = -1; },
       {"out_channels", "positive", "-1"}},
      {"height 0", [](Conv2dShape& s) { s.height = 0; }, {"height", "positive"}},
      {"width -3", [](Conv2dShape& s) { s.width = -3; }, {"width", "positive", "-3"}},
      {"kernel_h 0", [](Conv2dShape& s) { s.kernel_h = 0; }, {"kernel_h", "positive"}},
      {"kernel_w 0", [](Conv2dShape& s) { s.kernel_w = 0; }, {"kernel_w", "positive"}},
      {"pad_top -1", [](Conv2dShape& s) { s.pad_top = -1; }, {"pad_top", "non-negative", "-1"}},
      {"pad_bottom -1", [](Conv2dShape& s) { s.pad_bottom = -1; }, {"pad_bottom", "non-negative"}},
      {"pad_left -2", [](Conv2dShape& s) { s.pad_left = -2; }, {"pad_left", "non-negative", "-2"}},
      {"pad_right -1", [](Conv2dShape& s) { s.pad_right = -1; }, {"pad_right", "non-negative"}},
      {"pad_top = kernel_h",
       [](Conv2dShape& s) { s.pad_top = 3; },
       {"pad_top = 3", "kernel_h = 3"}},
      {"pad_bottom > kernel_h",
       [](Conv2dShape& s) { s.pad_bottom = 5; },
       {"pad_bottom = 5", "kernel_h"}},
      {"pad_left = kernel_w",
       [](Conv2dShape& s) { s.pad_left = 4; },
       {"pad_left = 4", "kernel_w = 4"}},
      {"pad_right = kernel_w",
       [](Conv2dShape& s) { s.pad_right = 4; },
       {"pad_right = 4", "kernel_w"}},
      {"stride_h 2",
       [](Conv2dShape& s) { s.stride_h = 2; },
       {"stride_h = 2", "only stride 1 is supported"}},
      {"stride_w 0",
       [](Conv2dShape& s) { s.stride_w = 0; },
       {"stride_w = 0", "only stride 1 is supported"}},
      {"dilation_h 2",
       [](Conv2dShape& s) { s.dilation_h = 2; },
       {"dilation_h = 2", "only dilation 1"}},
      {"dilation_w 2",
       [](Conv2dShape& s) { s.dilation_w = 2; },
       {"dilation_w = 2", "only dilation 1"}},
      {"empty output height",
       [](Conv2dShape& s) {
         s.height = 1;
         s.pad_top = 0;
         s.pad_bottom = 0;
       },
       {"output height", "-1", "empty"}},
      {"empty output width",
       [](Conv2dShape& s) {
         s.width = 2;
         s.pad_left = 0;
         s.pad_right = 1;
       },
       {"output width", "0", "empty"}},
      {"padded height overflow",
       [](Conv2dShape& s) {
         s.height = kInt64Max;
         s.pad_top = 1;
       },
       {"height", "overflow"}},
      {"input count overflow",
       [](Conv2dShape& s) {
         s.in_channels = std::int64_t{1} << 21;
         s.height = std::int64_t{1} << 21;
         s.width = std::int64_t{1} << 21;
       },
       {"input element count", "overflows int64"}},
      {"weight count overflow",
       [](Conv2dShape& s) {
         s.in_channels = std::int64_t{1} << 31;
         s.out_channels = std::int64_t{1} << 31;
       },
       {"weight element count", "overflows int64"}},
      {"output count overflow",
       [](Conv2dShape& s) {
         s.in_channels = 1;
         s.batch = std::int64_t{1} << 10;
         s.out_channels = std::int64_t{1} << 40;
         s.height = std::int64_t{1} << 10;
         s.width = std::int64_t{1} << 10;
       },
       {"output element count", "overflows int64"}},
  };
}

// Base shape for the validation rules: valid, kernel 3x4, padding 1 per side.
Conv2dShape rule_base() {
  return Conv2dShape{.batch = 1,
                     .in_channels = 2,
                     .out_channels = 3,
                     .height = 5,
                     .width = 6,
                     .kernel_h = 3,
                     .kernel_w = 4,
                     .pad_top = 1,
                     .pad_bottom = 1,
                     .pad_left = 1,
                     .pad_right = 1};
}

TEST(Conv2dShape, ValidateRejectsEachRuleWithItsField) {
  ASSERT_TRUE(rule_base().validate().ok());
  for (const ShapeRule& rule : shape_rules()) {
    SCOPED_TRACE(rule.what);
    Conv2dShape s = rule_base();
    rule.mutate(s);
    const sfc::Status status = s.validate();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.message().rfind("Conv2dShape: ", 0), 0u) << status.message();
    for (const std::string_view needle : rule.needles) {
      EXPECT_NE(status.message().find(needle), std::string::npos)
          << "message \"" << status.message() << "\" lacks \"" << needle << "\"";
    }
  }
}

TEST(Conv2dShape, ElementCountAccessorsThrowOnOverflow) {
  const Conv2dShape huge{.batch = 1,
                         .in_channels = std::int64_t{1} << 21,
                         .out_channels = std::int64_t{1} << 43,
                         .height = std::int64_t{1} << 21,
                         .width = std::int64_t{1} << 21};
  expect_failure(huge.validate(), {"overflow"});
  expect_error([&] { (void)huge.input_elements(); }, {"overflow"});
  expect_error([&] { (void)huge.weight_elements(); }, {"overflow"});
  expect_error([&] { (void)huge.output_elements(); }, {"overflow"});
  const Conv2dShape tall{.height = kInt64Max, .kernel_h = 2, .pad_top = 1};
  expect_error([&] { (void)tall.output_height(); }, {"overflow"});
}

// ---------------------------------------------------------------------------
// Hand-computed cases. Input 3x3 = [1..9], kernel 2x2 = [[1, 2], [3, 4]].

const std::vector<float> kInput3x3 = {1, 2, 3, 4, 5, 6, 7, 8, 9};
const std::vector<float> kKernel2x2 = {1, 2, 3, 4};

TEST(ReferenceConv, HandComputedNoPadding) {
  const Conv2dShape s = Conv2dShape::square(1, 1, 1, 3, 2, 0);
  std::vector<float> out(4, -1.0f);
  conv2d_direct(s, kInput3x3, kKernel2x2, {}, out);
  // 1*1+2*2+3*4+4*5 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77
  EXPECT_EQ(out, (std::vector<float>{37, 47, 67, 77}));

  const std::vector<float> bias = {0.5f};
  conv2d_direct(s, kInput3x3, kKernel2x2, bias, out);
  EXPECT_EQ(out, (std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f}));
}

TEST(ReferenceConv, HandComputedFullPadding) {
  const Conv2dShape s = Conv2dShape::square(1, 1, 1, 3, 2, 1);
  ASSERT_EQ(s.output_height(), 4);
  std::vector<float> out(16);
  conv2d_direct(s, kInput3x3, kKernel2x2, {}, out);
  // out[y][x] = 1*p[y][x] + 2*p[y][x+1] + 3*p[y+1][x] + 4*p[y+1][x+1] over the
  // zero-padded 5x5 image p.
  EXPECT_EQ(out, (std::vector<float>{4, 11, 18, 9,    //
                                     18, 37, 47, 21,  //
                                     36, 67, 77, 33,  //
                                     14, 23, 26, 9}));
}

TEST(ReferenceConv, HandComputedAsymmetricPaddingAndBias) {
  // Only one zero row on top: rows 0..2, columns 1..2 of the full-padding result.
  const Conv2dShape s{.height = 3, .width = 3, .kernel_h = 2, .kernel_w = 2, .pad_top = 1};
  ASSERT_EQ(s.output_height(), 3);
  ASSERT_EQ(s.output_width(), 2);
  const std::vector<double> input(kInput3x3.begin(), kInput3x3.end());
  const std::vector<double> kernel(kKernel2x2.begin(), kKernel2x2.end());
  const std::vector<double> bias = {-10};
  std::vector<double> out(6);
  conv2d_direct(s, input, kernel, bias, out);
  EXPECT_EQ(out, (std::vector<double>{1, 8, 27, 37, 57, 67}));
}

TEST(ReferenceConv, HandComputedChannelMixing) {
  // 1x1 kernel: a per-pixel matrix product. Two input channels, two outputs.
  const Conv2dShape s = Conv2dShape::square(1, 2, 2, 2, 1, 0);
  const std::vector<std::int8_t> input = {1,  2,  3,  4,    // channel 0
                                          10, 20, 30, 40};  // channel 1
  const std::vector<std::int8_t> weights = {1, 1,           // out 0 = c0 + c1
                                            2, -1};         // out 1 = 2 c0 - c1
  const std::vector<std::int32_t> bias = {100, -100};
  std::vector<std::int32_t> out(8);
  conv2d_direct(s, input, weights, bias, out);
  EXPECT_EQ(out, (std::vector<std::int32_t>{111, 122, 133, 144, -108, -116, -124, -132}));
}

// ---------------------------------------------------------------------------
// Against the independent im2col formulation.

TEST(ReferenceConv, FloatMatchesIm2colOnRandomShapes) {
  std::mt19937 rng(20240611u);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  for (const Conv2dShape& s : random_shapes(1u, 40)) {
    SCOPED_TRACE(s.to_string());
    const auto input = random_vector<float>(rng, s.input_elements(), value);
    const auto weights = random_vector<float>(rng, s.weight_elements(), value);
    const auto bias = random_vector<float>(rng, s.out_channels, value);
    for (const bool with_bias : {false, true}) {
      const std::vector<float> b = with_bias ? bias : std::vector<float>{};
      std::vector<float> out(to_size(s.output_elements()));
      conv2d_direct(s, input, weights, b, out);

      // Exact-ish expectation in double, and a magnitude bound from |terms|.
      const std::vector<double> in_d(input.begin(), input.end());
      const std::vector<double> w_d(weights.begin(), weights.end());
      const std::vector<double> b_d(b.begin(), b.end());
      const auto expected = naive_conv_nchw(s, in_d, w_d, b_d);
      const auto abs_all = [](std::vector<double> v) {
        for (double& x : v) x = std::abs(x);
        return v;
      };
      const auto magnitude = naive_conv_nchw(s, abs_all(in_d), abs_all(w_d), abs_all(b_d));
      for (std::size_t k = 0; k < out.size(); ++k) {
        // The reference rounds once from double: within half a float ulp,
        // plus a few double ulps of the term magnitudes for summation order.
        const double tolerance = 6e-8 * std::abs(expected[k]) + 1e-14 * magnitude[k];
        ASSERT_NEAR(out[k], expected[k], tolerance) << "k=" << k << " bias=" << with_bias;
      }
    }
  }
}

TEST(ReferenceConv, DoubleIsExactOnIntegerValues) {
  std::mt19937 rng(7u);
  std::uniform_int_distribution<int> value(-9, 9);
  for (const Conv2dShape& s : random_shapes(2u, 30)) {
    SCOPED_TRACE(s.to_string());
    const auto input = random_vector<double>(rng, s.input_elements(), value);
    const auto weights = random_vector<double>(rng, s.weight_elements(), value);
    const auto bias = random_vector<double>(rng, s.out_channels, value);
    std::vector<double> out(to_size(s.output_elements()));
    conv2d_direct(s, input, weights, bias, out);
    EXPECT_EQ(out, naive_conv_nchw(s, input, weights, bias));
  }
}

TEST(ReferenceConv, Int8MatchesIm2colExactly) {
  std::mt19937 rng(12345u);
  std::uniform_int_distribution<int> value(-128, 127);
  std::uniform_int_distribution<int> bias_value(-100000, 100000);
  for (const Conv2dShape& s : random_shapes(3u, 40)) {
    SCOPED_TRACE(s.to_string());
    const auto input = random_vector<std::int8_t>(rng, s.input_elements(), value);
    const auto weights = random_vector<std::int8_t>(rng, s.weight_elements(), value);
    const auto bias = random_vector<std::int32_t>(rng, s.out_channels, bias_value);
    std::vector<std::int32_t> out(to_size(s.output_elements()));
    conv2d_direct(s, input, weights, bias, out);

    const std::vector<std::int64_t> in64(input.begin(), input.end());
    const std::vector<std::int64_t> w64(weights.begin(), weights.end());
    const std::vector<std::int64_t> b64(bias.begin(), bias.end());
    const auto expected = naive_conv_nchw(s, in64, w64, b64);
    EXPECT_EQ(std::vector<std::int64_t>(out.begin(), out.end()), expected);
  }
}

TEST(ReferenceConv, Uint8WithZeroPointMatchesIm2colExactly) {
  std::mt19937 rng(777u);
  std::uniform_int_distribution<int> activation(0, 255);
  std::uniform_int_distribution<int> weight(-128, 127);
  const std::int32_t zero_points[] = {0, 1, 128, 200, 255};
  int round = 0;
  for (const Conv2dShape& s : random_shapes(4u, 30)) {
    const std::int32_t zp = zero_points[round++ % 5];
    SCOPED_TRACE(s.to_string() + " zero_point=" + std::to_string(zp));
    const auto input = random_vector<std::uint8_t>(rng, s.input_elements(), activation);
    const auto weights = random_vector<std::int8_t>(rng, s.weight_elements(), weight);
    std::vector<std::int32_t> out(to_size(s.output_elements()));
    conv2d_direct(s, input, zp, weights, {}, out);

    // Padding is real zero, i.e. zero after subtracting the zero point.
    std::vector<std::int64_t> centered(input.size());
    for (std::size_t k = 0; k < input.size(); ++k) centered[k] = std::int64_t{input[k]} - zp;
    const std::vector<std::int64_t> w64(weights.begin(), weights.end());
    const auto expected = naive_conv_nchw(s, centered, w64, {});
    EXPECT_EQ(std::vector<std::int64_t>(out.begin(), out.end()), expected);
  }
}

TEST(ReferenceConv, Uint8AtZeroPointGivesBiasEverywhere) {
  const Conv2dShape s = Conv2dShape::square(2, 3, 2, 4, 3, 2);
  const std::vector<std::uint8_t> input(to_size(s.input_elements()), 37);
  const std::vector<std::int8_t> weights(to_size(s.weight_elements()), -128);
  const std::vector<std::int32_t> bias = {5, -6};
  std::vector<std::int32_t> out(to_size(s.output_elements()));
  conv2d_direct(s, input, 37, weights, bias, out);
  const std::size_t plane = to_size(s.output_height() * s.output_width());
  for (std::size_t k = 0; k < out.size(); ++k) {
    EXPECT_EQ(out[k], (k / plane) % 2 == 0 ? 5 : -6) << "k=" << k;
  }
}

// ---------------------------------------------------------------------------
// Layouts: all four input/output combinations give the NCHW result bit-exactly.

template <class In, class Wt, class Bias, class Out, class... ZeroPoint>
void check_layouts(const Conv2dShape& s, const std::vector<In>& input,
                   const std::vector<Wt>& weights, const std::vector<Bias>& bias, ZeroPoint... zp) {
  const std::int64_t oh = s.output_height();
  const std::int64_t ow = s.output_width();
  std::vector<Out> expected(to_size(s.output_elements()));
  conv2d_direct(s, std::span<const In>(input), zp..., weights, bias, expected);
  const auto input_nhwc = nchw_to_nhwc(input, s.batch, s.in_channels, s.height, s.width);
  for (const Layout in_layout : {Layout::NCHW, Layout::NHWC}) {
    for (const Layout out_layout : {Layout::NCHW, Layout::NHWC}) {
      SCOPED_TRACE(std::string(sfc::to_string(in_layout)) + " -> " +
                   std::string(sfc::to_string(out_layout)));
      const auto& in = in_layout == Layout::NCHW ? input : input_nhwc;
      std::vector<Out> out(expected.size());
      conv2d_direct(s, std::span<const In>(in), zp..., weights, bias, out, in_layout, out_layout);
      if (out_layout == Layout::NHWC) {
        out = nhwc_to_nchw(out, s.batch, s.out_channels, oh, ow);
      }
      EXPECT_EQ(out, expected);
    }
  }
}

TEST(ReferenceConv, NchwAndNhwcAgree) {
  std::mt19937 rng(99u);
  std::uniform_real_distribution<double> real(-2.0, 2.0);
  std::uniform_int_distribution<int> s8(-128, 127);
  std::uniform_int_distribution<int> u8(0, 255);
  for (const Conv2dShape& s : random_shapes(5u, 15)) {
    SCOPED_TRACE(s.to_string());
    check_layouts<float, float, float, float>(s,
                                              random_vector<float>(rng, s.input_elements(), real),
                                              random_vector<float>(rng, s.weight_elements(), real),
                                              random_vector<float>(rng, s.out_channels, real));
    check_layouts<double, double, double, double>(
        s, random_vector<double>(rng, s.input_elements(), real),
        random_vector<double>(rng, s.weight_elements(), real), std::vector<double>{});
    check_layouts<std::int8_t, std::int8_t, std::int32_t, std::int32_t>(
        s, random_vector<std::int8_t>(rng, s.input_elements(), s8),
        random_vector<std::int8_t>(rng, s.weight_elements(), s8),
        random_vector<std::int32_t>(rng, s.out_channels, s8));
    check_layouts<std::uint8_t, std::int8_t, std::int32_t, std::int32_t>(
        s, random_vector<std::uint8_t>(rng, s.input_elements(), u8),
        random_vector<std::int8_t>(rng, s.weight_elements(), s8), std::vector<std::int32_t>{},
        std::int32_t{131});
  }
}

// ---------------------------------------------------------------------------
// Integer extremes.

// Number of kernel taps along one axis that land inside the image.
std::int64_t valid_taps(std::int64_t out_pos, std::int64_t pad, std::int64_t kernel,
                        std::int64_t extent) {
  std::int64_t count = 0;
  for (std::int64_t k = 0; k < kernel; ++k) {
    const std::int64_t pos = out_pos + k - pad;
    count += (pos >= 0 && pos < extent) ? 1 : 0;
  }
  return count;
}

TEST(ReferenceConv, Int8ExtremesAreExact) {
  // 64 channels, 7x7 kernel, padding 3: 49 * 64 taps of (-128) * (-128).
  const Conv2dShape s = Conv2dShape::square(1, 64, 2, 9, 7, 3);
  const std::vector<std::int8_t> input(to_size(s.input_elements()), -128);
  std::vector<std::int8_t> weights(to_size(s.weight_elements()), -128);
  // Output channel 1 uses +127 weights instead.
  std::fill(weights.begin() + s.weight_elements() / 2, weights.end(), std::int8_t{127});
  std::vector<std::int32_t> out(to_size(s.output_elements()));
  conv2d_direct(s, input, weights, {}, out);

  const std::int64_t oh = s.output_height();
  const std::int64_t ow = s.output_width();
  for (std::int64_t y = 0; y < oh; ++y) {
    for (std::int64_t x = 0; x < ow; ++x) {
      const std::int64_t taps = 64 * valid_taps(y, 3, 7, 9) * valid_taps(x, 3, 7, 9);
      EXPECT_EQ(out[to_size(y * ow + x)], 128 * 128 * taps) << "y=" << y << " x=" << x;
      EXPECT_EQ(out[to_size(oh * ow + y * ow + x)], -128 * 127 * taps) << "y=" << y << " x=" << x;
    }
  }
  // The interior (full window inside the image) is exactly 128*128*64*49.
  EXPECT_EQ(out[to_size(4 * ow + 4)], 51380224);
  EXPECT_EQ(out[to_size(oh * ow + 4 * ow + 4)], -50978816);

  // uint8 extreme: (255 - 0) * (-128) over all taps.
  const std::vector<std::uint8_t> bright(to_size(s.input_elements()), 255);
  const std::vector<std::int8_t> negative(to_size(s.weight_elements()), -128);
  conv2d_direct(s, bright, 0, negative, {}, out);
  EXPECT_EQ(out[to_size(4 * ow + 4)], -255 * 128 * 64 * 49);
}

TEST(ReferenceConv, Int32OverflowThrowsInsteadOfWrapping) {
  const Conv2dShape s{};  // 1x1 everything
  const std::vector<std::int8_t> one = {1};
  const std::vector<std::int8_t> minus_one = {-1};
  std::vector<std::int32_t> out(1);

  conv2d_direct(s, one, one, std::vector<std::int32_t>{kInt32Max - 1}, out);
  EXPECT_EQ(out[0], kInt32Max);
  expect_error([&] { conv2d_direct(s, one, one, std::vector<std::int32_t>{kInt32Max}, out); },
               {"does not fit int32", "2147483648", "n=0, o=0, y=0, x=0"});
  conv2d_direct(s, minus_one, one, std::vector<std::int32_t>{kInt32Min + 1}, out);
  EXPECT_EQ(out[0], kInt32Min);
  expect_error([&] { conv2d_direct(s, minus_one, one, std::vector<std::int32_t>{kInt32Min}, out); },
               {"does not fit int32", "-2147483649"});
  const std::vector<std::uint8_t> zero = {0};
  expect_error([&] { conv2d_direct(s, zero, 1, one, std::vector<std::int32_t>{kInt32Min}, out); },
               {"does not fit int32"});
}

TEST(ReferenceConv, Int64AccumulatorBoundIsChecked) {
  // Valid shape whose tap count times 128*128 could exceed int64.
  const Conv2dShape s{
      .in_channels = std::int64_t{1} << 45, .height = 7, .width = 7, .kernel_h = 7, .kernel_w = 7};
  ASSERT_TRUE(s.validate().ok());
  expect_error(
      [&] {
        conv2d_direct(s, std::span<const std::int8_t>{}, std::span<const std::int8_t>{}, {}, {});
      },
      {"in_channels", "int64 accumulator"});
}

// ---------------------------------------------------------------------------
// Validation in conv2d_direct.

TEST(ReferenceConv, RejectsInvalidShapesWithFieldName) {
  for (const ShapeRule& rule : shape_rules()) {
    SCOPED_TRACE(rule.what);
    Conv2dShape s = rule_base();
    rule.mutate(s);
    // The shape is rejected before the (empty) buffers are looked at.
    expect_error(
        [&] { conv2d_direct(s, std::span<const float>{}, std::span<const float>{}, {}, {}); },
        {"sfc::reference::conv2d_direct: Conv2dShape: "});
    for (const std::string_view needle : rule.needles) {
      expect_error(
          [&] {
            conv2d_direct(s, std::span<const std::int8_t>{}, std::span<const std::int8_t>{}, {},
                          {});
          },
          {needle});
    }
  }
}

TEST(ReferenceConv, RejectsBadBuffers) {
  const Conv2dShape s = Conv2dShape::square(1, 1, 1, 3, 2, 0);  // 9 in, 4 weights, 4 out
  const std::vector<float> in(9, 1.0f), in_short(8, 1.0f);
  const std::vector<float> w(4, 1.0f), w_short(3, 1.0f);
  std::vector<float> out(4), out_short(3);

  expect_error([&] { conv2d_direct(s, in_short, w, {}, out); },
               {"input buffer has 8 elements, shape needs 9"});
  expect_error([&] { conv2d_direct(s, in, w_short, {}, out); },
               {"weight buffer has 3 elements, shape needs 4"});
  expect_error([&] { conv2d_direct(s, in, w, {}, out_short); },
               {"output buffer has 3 elements, shape needs 4"});
  expect_error(
      [&] {
        conv2d_direct(s, in, w, std::vector<float>{1, 2}, out);
      },
      {"bias has 2 elements", "out_channels = 1"});

  const float* null_float = nullptr;
  expect_error([&] { conv2d_direct(s, std::span<const float>(null_float, 9), w, {}, out); },
               {"input buffer is null"});
  expect_error([&] { conv2d_direct(s, in, std::span<const float>(null_float, 4), {}, out); },
               {"weight buffer is null"});
  expect_error(
      [&] { conv2d_direct(s, in, w, {}, std::span<float>(static_cast<float*>(nullptr), 4)); },
      {"output buffer is null"});
  expect_error([&] { conv2d_direct(s, in, w, std::span<const float>(null_float, 1), out); },
               {"bias buffer is null"});

  // Larger buffers are fine; only the leading elements are used.
  std::vector<float> out_long(6, -7.0f);
  conv2d_direct(s, std::vector<float>(12, 1.0f), std::vector<float>(5, 1.0f), {}, out_long);
  EXPECT_EQ(out_long, (std::vector<float>{4, 4, 4, 4, -7, -7}));

  // The output may not alias an input.
  std::vector<float> shared(9, 1.0f);
  expect_error([&] { conv2d_direct(s, shared, w, {}, std::span<float>(shared).subspan(5)); },
               {"output buffer overlaps input buffer"});
  std::vector<float> shared_w(8, 1.0f);
  expect_error(
      [&] {
        conv2d_direct(s, in, std::span<const float>(shared_w).first(4), {},
                      std::span<float>(shared_w).subspan(2));
      },
      {"output buffer overlaps weight buffer"});
  std::vector<float> shared_b(5, 1.0f);
  expect_error(
      [&] {
        conv2d_direct(s, in, w, std::span<const float>(shared_b).subspan(3, 1),
                      std::span<float>(shared_b));
      },
      {"output buffer overlaps bias buffer"});
  EXPECT_NO_THROW(conv2d_direct(s, in, std::span<const float>(shared_w).first(4), {},
                                std::span<float>(shared_w).subspan(4)));

  // Layouts cast from integers outside the enumeration.
  expect_error([&] { conv2d_direct(s, in, w, {}, out, static_cast<sfc::Layout>(2)); },
               {"in_layout is not a Layout (value 2)"});
  expect_error(
      [&] { conv2d_direct(s, in, w, {}, out, sfc::Layout::NCHW, static_cast<sfc::Layout>(-3)); },
      {"out_layout is not a Layout (value -3)"});
}

TEST(ReferenceConv, RejectsBadZeroPointAndIntegerBuffers) {
  const Conv2dShape s = Conv2dShape::square(1, 2, 3, 3, 3, 1);
  const std::vector<std::uint8_t> in(to_size(s.input_elements()), 0);
  const std::vector<std::int8_t> in8(to_size(s.input_elements()), 0);
  const std::vector<std::int8_t> w(to_size(s.weight_elements()), 0);
  std::vector<std::int32_t> out(to_size(s.output_elements()));
  expect_error([&] { conv2d_direct(s, in, 256, w, {}, out); },
               {"input_zero_point", "[0, 255]", "256"});
  expect_error([&] { conv2d_direct(s, in, -1, w, {}, out); }, {"input_zero_point", "-1"});
  expect_error([&] { conv2d_direct(s, in, 0, w, std::vector<std::int32_t>(2), out); },
               {"bias has 2 elements", "out_channels = 3"});
  expect_error([&] { conv2d_direct(s, std::span<const std::int8_t>(in8).first(17), w, {}, out); },
               {"input buffer has 17 elements, shape needs 18"});
  expect_error([&] { conv2d_direct(s, in8, w, {}, std::span<std::int32_t>(out).first(26)); },
               {"output buffer has 26 elements, shape needs 27"});
}

}  // namespace
