#pragma once
/// \file
/// Always-correct reference 2D convolution: plain nested loops, no tiling, no
/// SIMD. Every fast operator in SFC is tested against these functions.
///
/// Semantics (PyTorch `Conv2d`, i.e. cross-correlation, the kernel is not
/// flipped), for a shape that passes `Conv2dShape::validate()`:
///
///   out[n, o, y, x] = bias[o]
///                   + sum_{i, ky, kx} w[o, i, ky, kx] * (in_padded[n, i, y + ky, x + kx] - zp)
///
/// with 0 <= y < output_height(), 0 <= x < output_width() and
///   in_padded[n, i, r, c] = in[n, i, r - pad_top, c - pad_left] inside the
///   input, and padding positions contributing exactly zero (for the uint8
///   overload this means padding with the zero point, i.e. real zero).
/// `zp` is 0 except for the uint8 overload. An empty bias means zero.
///
/// Layouts: weights are OIHW; input and output are NCHW or NHWC, chosen
/// independently. Buffers must hold at least the shape's element counts (only
/// that many elements are read or written); the bias is empty or has exactly
/// out_channels elements; the output must not overlap any input.
///
/// Accumulation: float and double in double; integers in int64, with an
/// `sfc::Error` (never a silent wrap) if a result does not fit int32.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sfc/core/buffers.hpp>
#include <sfc/core/checked.hpp>
#include <sfc/core/conv_shape.hpp>
#include <sfc/core/error.hpp>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sfc::reference {

namespace detail {

inline constexpr std::string_view kFunctionName = "sfc::reference::conv2d_direct";

[[noreturn]] inline void fail(const std::string& message) {
  throw Error(std::string(kFunctionName) + ": " + message);
}

/// Offset of element (n, c, y, x) in a dense activation tensor.
struct ActivationIndex {
  Layout layout;
  std::int64_t channels;
  std::int64_t height;
  std::int64_t width;

  std::size_t operator()(std::int64_t n, std::int64_t c, std::int64_t y,
                         std::int64_t x) const noexcept {
    const std::int64_t offset = layout == Layout::NCHW
                                    ? ((n * channels + c) * height + y) * width + x
                                    : ((n * height + y) * width + x) * channels + c;
    return static_cast<std::size_t>(offset);
  }
};

/// The single loop nest behind every overload. `Acc` is the accumulator type;
/// `zero_point` is subtracted from every (non-padding) input value.
template <class Acc, class In, class Wt, class Bias, class Out>
void conv2d_direct(const Conv2dShape& shape, std::span<const In> input, std::span<const Wt> weights,
                   std::span<const Bias> bias, std::span<Out> output, Layout in_layout,
                   Layout out_layout, Acc zero_point) {
  // --- validation ---------------------------------------------------------
  throw_if_error(shape.validate(), kFunctionName);

  if constexpr (std::is_integral_v<Acc>) {
    // Bound on |sum|: taps * max|input - zp| * max|w| + max|bias|. Realistic
    // shapes are ~13 orders of magnitude below int64, but prove it anyway.
    const std::int64_t max_input = std::is_signed_v<In> ? 128 : 255;
    const std::int64_t max_product = max_input * 128;
    const auto taps = checked_product({shape.in_channels, shape.kernel_h, shape.kernel_w});
    const auto sum_bound = taps ? checked_mul(*taps, max_product) : std::nullopt;
    if (!sum_bound || !checked_add(*sum_bound, std::int64_t{1} << 31)) {
      fail("in_channels * kernel_h * kernel_w = " + std::to_string(shape.in_channels) + " * " +
           std::to_string(shape.kernel_h) + " * " + std::to_string(shape.kernel_w) +
           " taps could overflow the int64 accumulator");
    }
  }

  check_conv_buffers(kFunctionName, shape, input, weights, bias, output);
  sfc::detail::check_layout(kFunctionName, "in_layout", in_layout);
  sfc::detail::check_layout(kFunctionName, "out_layout", out_layout);

  // --- computation --------------------------------------------------------
  const std::int64_t out_h = shape.output_height();
  const std::int64_t out_w = shape.output_width();
  const ActivationIndex in_index{in_layout, shape.in_channels, shape.height, shape.width};
  const ActivationIndex out_index{out_layout, shape.out_channels, out_h, out_w};
  const auto weight_index = [&](std::int64_t o, std::int64_t i, std::int64_t ky,
                                std::int64_t kx) {  // OIHW
    return static_cast<std::size_t>(
        ((o * shape.in_channels + i) * shape.kernel_h + ky) * shape.kernel_w + kx);
  };

  for (std::int64_t n = 0; n < shape.batch; ++n) {
    for (std::int64_t o = 0; o < shape.out_channels; ++o) {
      for (std::int64_t y = 0; y < out_h; ++y) {
        for (std::int64_t x = 0; x < out_w; ++x) {
          Acc sum = bias.empty() ? Acc{0} : static_cast<Acc>(bias[static_cast<std::size_t>(o)]);
          for (std::int64_t i = 0; i < shape.in_channels; ++i) {
            for (std::int64_t ky = 0; ky < shape.kernel_h; ++ky) {
              const std::int64_t iy = y + ky - shape.pad_top;
              if (iy < 0 || iy >= shape.height) {
                continue;  // padding row: contributes zero
              }
              for (std::int64_t kx = 0; kx < shape.kernel_w; ++kx) {
                const std::int64_t ix = x + kx - shape.pad_left;
                if (ix < 0 || ix >= shape.width) {
                  continue;  // padding column: contributes zero
                }
                const Acc value = static_cast<Acc>(input[in_index(n, i, iy, ix)]) - zero_point;
                sum += static_cast<Acc>(weights[weight_index(o, i, ky, kx)]) * value;
              }
            }
          }
          if constexpr (std::is_integral_v<Out>) {
            if (!std::in_range<Out>(sum)) {
              fail("output[n=" + std::to_string(n) + ", o=" + std::to_string(o) +
                   ", y=" + std::to_string(y) + ", x=" + std::to_string(x) +
                   "] = " + std::to_string(sum) + " does not fit int32");
            }
          }
          output[out_index(n, o, y, x)] = static_cast<Out>(sum);
        }
      }
    }
  }
}

}  // namespace detail

/// float convolution, accumulated in double and rounded once to float.
/// `bias` may be empty (no bias). See the file comment for the semantics.
inline void conv2d_direct(const Conv2dShape& shape, std::span<const float> input,
                          std::span<const float> weights, std::span<const float> bias,
                          std::span<float> output, Layout in_layout = Layout::NCHW,
                          Layout out_layout = Layout::NCHW) {
  detail::conv2d_direct<double>(shape, input, weights, bias, output, in_layout, out_layout, 0.0);
}

/// double convolution, accumulated in double: the high-precision reference
/// for float paths.
inline void conv2d_direct(const Conv2dShape& shape, std::span<const double> input,
                          std::span<const double> weights, std::span<const double> bias,
                          std::span<double> output, Layout in_layout = Layout::NCHW,
                          Layout out_layout = Layout::NCHW) {
  detail::conv2d_direct<double>(shape, input, weights, bias, output, in_layout, out_layout, 0.0);
}

/// int8 x int8 convolution, exact: accumulated in int64; throws `sfc::Error`
/// if a result does not fit int32.
inline void conv2d_direct(const Conv2dShape& shape, std::span<const std::int8_t> input,
                          std::span<const std::int8_t> weights, std::span<const std::int32_t> bias,
                          std::span<std::int32_t> output, Layout in_layout = Layout::NCHW,
                          Layout out_layout = Layout::NCHW) {
  detail::conv2d_direct<std::int64_t>(shape, input, weights, bias, output, in_layout, out_layout,
                                      std::int64_t{0});
}

/// uint8 (asymmetric, zero point `input_zero_point` in [0, 255]) x int8
/// convolution, exact: uses (x - input_zero_point); padding is real zero.
/// Accumulated in int64; throws `sfc::Error` if a result does not fit int32.
inline void conv2d_direct(const Conv2dShape& shape, std::span<const std::uint8_t> input,
                          std::int32_t input_zero_point, std::span<const std::int8_t> weights,
                          std::span<const std::int32_t> bias, std::span<std::int32_t> output,
                          Layout in_layout = Layout::NCHW, Layout out_layout = Layout::NCHW) {
  if (input_zero_point < 0 || input_zero_point > 255) {
    detail::fail("input_zero_point must be in [0, 255] for uint8 input, got " +
                 std::to_string(input_zero_point));
  }
  detail::conv2d_direct<std::int64_t>(shape, input, weights, bias, output, in_layout, out_layout,
                                      std::int64_t{input_zero_point});
}

}  // namespace sfc::reference
