// Every validation rule of the convolution operators: each malformed
// construction or call throws sfc::Error naming the problem, and never
// touches memory it should not.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sfc/layers/conv2d.hpp"
#include "sfc/transforms/sfc.hpp"

namespace {

using Conv = sfc::Conv2d<float, sfc::SFC<6, 7, 3>>;

/// Runs `f` and expects sfc::Error whose message contains `fragment`.
template <class F>
void expect_error(F&& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no sfc::Error thrown; expected one mentioning \"" << fragment << "\"";
  } catch (const sfc::Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message \"" << e.what() << "\" does not mention \"" << fragment << "\"";
  }
}

sfc::Conv2dShape good() { return sfc::Conv2dShape::square(2, 3, 4, 9, 3, 1); }

std::vector<float> filled(std::int64_t n, float v = 0.5f) {
  return std::vector<float>(static_cast<std::size_t>(n), v);
}

TEST(ConvErrors, InvalidShapes) {
  struct Case {
    void (*edit)(sfc::Conv2dShape&);
    const char* fragment;
  };
  const Case cases[] = {
      {[](sfc::Conv2dShape& s) { s.batch = 0; }, "batch must be positive"},
      {[](sfc::Conv2dShape& s) { s.in_channels = -3; }, "in_channels must be positive"},
      {[](sfc::Conv2dShape& s) { s.out_channels = 0; }, "out_channels must be positive"},
      {[](sfc::Conv2dShape& s) { s.height = 0; }, "height must be positive"},
      {[](sfc::Conv2dShape& s) { s.width = -1; }, "width must be positive"},
      {[](sfc::Conv2dShape& s) { s.stride_h = 2; }, "only stride 1"},
      {[](sfc::Conv2dShape& s) { s.stride_w = 2; }, "only stride 1"},
      {[](sfc::Conv2dShape& s) { s.dilation_h = 2; }, "only dilation 1"},
      {[](sfc::Conv2dShape& s) { s.pad_left = 3; }, "pad_left = 3 must be smaller than kernel_w"},
      {[](sfc::Conv2dShape& s) { s.pad_top = -1; }, "pad_top must be non-negative"},
      {[](sfc::Conv2dShape& s) { s.height = 1; s.pad_top = s.pad_bottom = 0; }, "output height would be -1"},
      {[](sfc::Conv2dShape& s) { s.in_channels = std::int64_t{1} << 40; s.height = s.width = std::int64_t{1} << 20; },
       "overflows int64"},
  };
  const auto w = filled(1000);
  for (const Case& c : cases) {
    sfc::Conv2dShape s = good();
    c.edit(s);
    SCOPED_TRACE(s.to_string());
    expect_error([&] { Conv conv(s, w); }, c.fragment);
  }
}

// A shape that validate() accepts but whose tiled buffers overflow int64:
// a clear error from the operator (was signed overflow in the tile count).
TEST(ConvErrors, TiledBuffersThatOverflow) {
  const sfc::Conv2dShape s{.height = std::numeric_limits<std::int64_t>::max() - 2,
                           .kernel_h = 3,
                           .kernel_w = 3,
                           .pad_left = 1,
                           .pad_right = 1};
  ASSERT_TRUE(s.validate().ok());
  expect_error([&] { Conv conv(s, filled(s.weight_elements())); },
               "sfc::Conv2d: the tiled buffers of Conv2dShape{");
  expect_error([&] { Conv conv(s, filled(s.weight_elements())); }, "overflow int64");
}

// Enumerations cast from integers outside their range.
TEST(ConvErrors, OptionsOutOfRange) {
  const sfc::Conv2dShape s = good();
  const auto w = filled(s.weight_elements());
  expect_error([&] { Conv conv(s, w, {}, {.input_layout = static_cast<sfc::Layout>(5)}); },
               "input_layout is not a Layout (value 5)");
  expect_error([&] { Conv conv(s, w, {}, {.output_layout = static_cast<sfc::Layout>(-1)}); },
               "output_layout is not a Layout (value -1)");
  expect_error([&] { Conv conv(s, w, {}, {.weight_path = static_cast<sfc::WeightPath>(9)}); },
               "weight_path is not a WeightPath (value 9)");
}

// Finite weights whose transform would overflow float are refused at plan
// time (they gave NaN outputs); weights as large whose slots stay in range
// (one large tap per filter), and the largest weights the quick bound
// passes, give finite outputs.
TEST(ConvErrors, WeightsBeyondTheTransformsRange) {
  const auto s = sfc::Conv2dShape::same(1, 1, 1, 7, 7, 3, 3);
  const double growth = Conv::algorithm_2d::weight_growth.to_double();
  ASSERT_GT(growth, 1.0);
  expect_error([&] { Conv conv(s, filled(s.weight_elements(), 3e38f)); }, "could overflow float");
  const auto in = filled(s.input_elements(), 1e-30f);
  const auto finite_run = [&](const std::vector<float>& w, sfc::WeightPath path) {
    const Conv conv(s, w, {}, {.weight_path = path});
    auto out = filled(s.output_elements());
    conv.run(in, out);
    for (const float v : out) ASSERT_TRUE(std::isfinite(v)) << v;
  };
  const auto largest = static_cast<float>(0.99 * std::numeric_limits<float>::max() / growth);
  auto centre = filled(s.weight_elements(), 0.0f);
  centre[4] = 1e38f;  // above FLT_MAX / growth, but each slot holds it once at most
  for (const sfc::WeightPath path : {sfc::WeightPath::transformed, sfc::WeightPath::on_the_fly}) {
    finite_run(filled(s.weight_elements(), largest), path);
    finite_run(centre, path);
  }
}

// A plan that was moved from refuses to run (its weights went with the move).
TEST(ConvErrors, MovedFromPlan) {
  const sfc::Conv2dShape s = good();
  Conv a(s, filled(s.weight_elements()));
  const Conv b = std::move(a);
  auto in = filled(s.input_elements());
  auto out = filled(s.output_elements());
  EXPECT_NO_THROW(b.run(in, out));
  expect_error([&] { a.run(in, out); },
               "run() on a plan that was moved from");  // NOLINT(bugprone-use-after-move)
  std::vector<float> ws(b.workspace_size());
  expect_error([&] { a.run(in, out, ws); }, "moved from");  // NOLINT(bugprone-use-after-move)
  a = Conv(s, filled(s.weight_elements()));  // assigning a plan makes it usable again
  EXPECT_NO_THROW(a.run(in, out));
}

TEST(ConvErrors, KernelMustMatchTheAlgorithm) {
  const auto s = sfc::Conv2dShape::square(1, 2, 2, 9, 5, 2);
  const auto w = filled(s.weight_elements());
  expect_error([&] { Conv conv(s, w); }, "kernel 5x5 does not match the algorithm's 3x3");
  sfc::Conv2dShape rect = good();
  rect.kernel_w = 1;
  rect.pad_left = rect.pad_right = 0;
  expect_error([&] { Conv conv(rect, filled(rect.weight_elements())); }, "kernel 3x1");
}

TEST(ConvErrors, TooManyChannels) {
  sfc::Conv2dShape s = sfc::Conv2dShape::square(1, std::int64_t{1} << 25, 1, 3, 3, 1);
  expect_error([&] { Conv conv(s, std::span<const float>()); }, "channel counts above");
}

TEST(ConvErrors, WeightsAndBias) {
  const sfc::Conv2dShape s = good();
  const auto w = filled(s.weight_elements());
  expect_error([&] { Conv conv(s, std::span<const float>(w).first(w.size() - 1)); },
               "weight buffer has 107 elements, shape needs 108");
  expect_error([&] { Conv conv(s, std::span<const float>()); }, "weight buffer has 0 elements");
  expect_error([&] { Conv conv(s, w, filled(3)); }, "bias has 3 elements");
  auto bad = w;
  bad[17] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { Conv conv(s, bad); }, "weight element 17 is not finite");
  bad[17] = std::numeric_limits<float>::infinity();
  expect_error([&] { Conv conv(s, bad); }, "weight element 17 is not finite");
  auto bias = filled(s.out_channels);
  bias[1] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { Conv conv(s, w, bias); }, "bias element 1 is not finite");
}

TEST(ConvErrors, RunBuffers) {
  const sfc::Conv2dShape s = good();
  const Conv conv(s, filled(s.weight_elements()));
  auto in = filled(s.input_elements());
  auto out = filled(s.output_elements());
  expect_error([&] { conv.run(std::span<const float>(in).first(in.size() - 1), out); },
               "input buffer has");
  expect_error([&] { conv.run(std::span<const float>(), out); }, "input buffer has 0 elements");
  expect_error([&] { conv.run(in, std::span<float>(out).first(out.size() - 1)); },
               "output buffer has");
  // Output overlapping the input.
  std::vector<float> both(in.size() + out.size());
  expect_error([&] {
    conv.run(std::span<const float>(both).first(in.size()),
             std::span<float>(both).subspan(in.size() - 1, out.size()));
  }, "overlaps input");
  expect_error([&] { conv.run(in, out, sfc::RunOptions{.threads = -1}); }, "threads must be >= 0");
}

TEST(ConvErrors, Workspace) {
  const sfc::Conv2dShape s = good();
  const Conv conv(s, filled(s.weight_elements()));
  auto in = filled(s.input_elements());
  auto out = filled(s.output_elements());
  std::vector<float> ws(conv.workspace_size());
  EXPECT_NO_THROW(conv.run(in, out, ws));
  expect_error([&] { conv.run(in, out, std::span<float>(ws).first(ws.size() - 1)); },
               "workspace buffer has");
  std::vector<float> shared(out.size() + ws.size());
  expect_error([&] {
    conv.run(in, std::span<float>(shared).first(out.size()),
             std::span<float>(shared).subspan(out.size() - 1, ws.size()));
  }, "workspace overlaps");
}

// Caller-provided workspace and allocated workspace give identical results,
// and a workspace can be reused across calls.
TEST(ConvErrors, WorkspaceReuseIsClean) {
  const sfc::Conv2dShape s = good();
  std::vector<float> w(static_cast<std::size_t>(s.weight_elements()));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) - 3.0f;
  const Conv conv(s, w);
  auto in = filled(s.input_elements(), 1.0f);
  std::vector<float> a(static_cast<std::size_t>(s.output_elements()));
  std::vector<float> b(a.size());
  std::vector<float> ws(conv.workspace_size(), std::numeric_limits<float>::quiet_NaN());
  conv.run(in, a);
  conv.run(in, b, ws);
  EXPECT_EQ(a, b);
  conv.run(in, b, ws);
  EXPECT_EQ(a, b);
}

}  // namespace
