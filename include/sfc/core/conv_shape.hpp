#pragma once
/// \file
/// `sfc::Conv2dShape`: the geometry of a stride-1, dilation-1 2D convolution
/// (PyTorch `Conv2d` semantics), shared by the reference and fast operators,
/// and `sfc::Layout`, the activation memory layout.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <sfc/core/checked.hpp>
#include <sfc/core/error.hpp>
#include <string>
#include <string_view>

namespace sfc {

/// Memory layout of an activation tensor (input or output). Weights are
/// always OIHW.
enum class Layout {
  NCHW,  ///< batch, channel, row, column (column fastest)
  NHWC,  ///< batch, row, column, channel (channel fastest)
};

/// "NCHW" or "NHWC".
constexpr std::string_view to_string(Layout layout) noexcept {
  return layout == Layout::NCHW ? "NCHW" : "NHWC";
}

/// Geometry of a 2D convolution
///   out[n, o, y, x] = sum_{i, ky, kx} w[o, i, ky, kx] * in_padded[n, i, y + ky, x + kx]
/// where `in_padded` is the input with `pad_*` zero rows/columns added on each
/// side. Only stride 1 and dilation 1 are supported; the stride and dilation
/// fields exist so that shapes translated from other frameworks fail
/// `validate()` loudly instead of being computed wrongly.
///
/// An aggregate: build it with designated initializers
/// (`Conv2dShape{.batch = 2, .in_channels = 64, ...}`; unnamed fields keep
/// their defaults, which describe a valid 1x1 convolution) or with the
/// `square()` / `same()` builders. Call `validate()` before using a shape.
struct Conv2dShape {
  std::int64_t batch = 1;
  std::int64_t in_channels = 1;
  std::int64_t out_channels = 1;
  std::int64_t height = 1;  ///< input height
  std::int64_t width = 1;   ///< input width
  std::int64_t kernel_h = 1;
  std::int64_t kernel_w = 1;
  std::int64_t pad_top = 0;  ///< zero rows above; 0 <= pad_top < kernel_h
  std::int64_t pad_bottom = 0;
  std::int64_t pad_left = 0;
  std::int64_t pad_right = 0;
  std::int64_t stride_h = 1;    ///< must be 1
  std::int64_t stride_w = 1;    ///< must be 1
  std::int64_t dilation_h = 1;  ///< must be 1
  std::int64_t dilation_w = 1;  ///< must be 1

  /// Square image (`size` x `size`), square `kernel`, and `pad` on all four
  /// sides.
  static constexpr Conv2dShape square(std::int64_t batch, std::int64_t in_channels,
                                      std::int64_t out_channels, std::int64_t size,
                                      std::int64_t kernel, std::int64_t pad) noexcept {
    return Conv2dShape{.batch = batch,
                       .in_channels = in_channels,
                       .out_channels = out_channels,
                       .height = size,
                       .width = size,
                       .kernel_h = kernel,
                       .kernel_w = kernel,
                       .pad_top = pad,
                       .pad_bottom = pad,
                       .pad_left = pad,
                       .pad_right = pad};
  }

  /// "Same" padding: the output has the input's height and width. A kernel
  /// of size k gets (k - 1) / 2 rows/columns before and k / 2 after (the extra
  /// one, for even k, goes to the bottom/right, as in TensorFlow).
  static constexpr Conv2dShape same(std::int64_t batch, std::int64_t in_channels,
                                    std::int64_t out_channels, std::int64_t height,
                                    std::int64_t width, std::int64_t kernel_h,
                                    std::int64_t kernel_w) noexcept {
    return Conv2dShape{.batch = batch,
                       .in_channels = in_channels,
                       .out_channels = out_channels,
                       .height = height,
                       .width = width,
                       .kernel_h = kernel_h,
                       .kernel_w = kernel_w,
                       .pad_top = (kernel_h - 1) / 2,
                       .pad_bottom = kernel_h / 2,
                       .pad_left = (kernel_w - 1) / 2,
                       .pad_right = kernel_w / 2};
  }

  /// Height of the zero-padded input: height + pad_top + pad_bottom.
  /// Throws `sfc::Error` on int64 overflow.
  constexpr std::int64_t padded_height() const {
    return add_or_throw(add_or_throw(height, pad_top), pad_bottom);
  }

  /// Width of the zero-padded input: width + pad_left + pad_right.
  /// Throws `sfc::Error` on int64 overflow.
  constexpr std::int64_t padded_width() const {
    return add_or_throw(add_or_throw(width, pad_left), pad_right);
  }

  /// height + pad_top + pad_bottom - kernel_h + 1 (< 1 for an invalid shape).
  /// Throws `sfc::Error` on int64 overflow.
  constexpr std::int64_t output_height() const {
    return add_or_throw(sub_or_throw(padded_height(), kernel_h), 1);
  }

  /// width + pad_left + pad_right - kernel_w + 1 (< 1 for an invalid shape).
  /// Throws `sfc::Error` on int64 overflow.
  constexpr std::int64_t output_width() const {
    return add_or_throw(sub_or_throw(padded_width(), kernel_w), 1);
  }

  /// batch * in_channels * height * width. Throws `sfc::Error` on overflow.
  constexpr std::int64_t input_elements() const {
    return product_or_throw({batch, in_channels, height, width});
  }

  /// out_channels * in_channels * kernel_h * kernel_w (OIHW). Throws
  /// `sfc::Error` on overflow.
  constexpr std::int64_t weight_elements() const {
    return product_or_throw({out_channels, in_channels, kernel_h, kernel_w});
  }

  /// batch * out_channels * output_height() * output_width(). Throws
  /// `sfc::Error` on overflow.
  constexpr std::int64_t output_elements() const {
    return product_or_throw({batch, out_channels, output_height(), output_width()});
  }

  /// Multiply-accumulates performed by direct convolution (padding taps
  /// included): output_elements() * in_channels * kernel_h * kernel_w. This is
  /// the operation count that benchmark rates are reported against. Throws
  /// `sfc::Error` on overflow.
  constexpr std::int64_t direct_macs() const {
    return product_or_throw({output_elements(), in_channels, kernel_h, kernel_w});
  }

  /// Checks every constraint without throwing. On failure the message names
  /// the offending field and its value. Rules, in the order checked:
  /// batch, channels, height, width and kernel sizes are positive; strides and
  /// dilations are 1; paddings are in [0, kernel - 1]; the output is not
  /// empty; the input, weight and output element counts fit int64.
  Status validate() const {
    const auto fail = [](std::string message) {
      return Status::failure("Conv2dShape: " + std::move(message));
    };
    struct Field {
      const char* name;
      std::int64_t value;
    };

    for (const Field f :
         {Field{"batch", batch}, Field{"in_channels", in_channels},
          Field{"out_channels", out_channels}, Field{"height", height}, Field{"width", width},
          Field{"kernel_h", kernel_h}, Field{"kernel_w", kernel_w}}) {
      if (f.value <= 0) {
        return fail(std::string(f.name) + " must be positive, got " + std::to_string(f.value));
      }
    }

    for (const Field f : {Field{"stride_h", stride_h}, Field{"stride_w", stride_w}}) {
      if (f.value != 1) {
        return fail(std::string(f.name) + " = " + std::to_string(f.value) +
                    ", but only stride 1 is supported");
      }
    }
    for (const Field f : {Field{"dilation_h", dilation_h}, Field{"dilation_w", dilation_w}}) {
      if (f.value != 1) {
        return fail(std::string(f.name) + " = " + std::to_string(f.value) +
                    ", but only dilation 1 is supported");
      }
    }

    struct Pad {
      const char* name;
      std::int64_t value;
      const char* kernel_name;
      std::int64_t kernel;
    };
    for (const Pad p : {Pad{"pad_top", pad_top, "kernel_h", kernel_h},
                        Pad{"pad_bottom", pad_bottom, "kernel_h", kernel_h},
                        Pad{"pad_left", pad_left, "kernel_w", kernel_w},
                        Pad{"pad_right", pad_right, "kernel_w", kernel_w}}) {
      if (p.value < 0) {
        return fail(std::string(p.name) + " must be non-negative, got " + std::to_string(p.value));
      }
      if (p.value >= p.kernel) {
        return fail(std::string(p.name) + " = " + std::to_string(p.value) +
                    " must be smaller than " + p.kernel_name + " = " + std::to_string(p.kernel) +
                    " (supported padding per side is 0.." + p.kernel_name + "-1)");
      }
    }

    // Output size: extent + pad_before + pad_after - kernel + 1. The sum can
    // only overflow for absurd extents; after it, subtracting a positive
    // kernel and adding 1 cannot.
    struct Axis {
      const char* name;  // "height" or "width"
      std::int64_t extent, pad_before, pad_after, kernel;
      const char* formula;
    };
    const Axis axes[2] = {{"height", height, pad_top, pad_bottom, kernel_h,
                           "height + pad_top + pad_bottom - kernel_h + 1"},
                          {"width", width, pad_left, pad_right, kernel_w,
                           "width + pad_left + pad_right - kernel_w + 1"}};
    std::int64_t out_extent[2] = {0, 0};
    for (int axis = 0; axis < 2; ++axis) {
      const Axis& a = axes[axis];
      std::optional<std::int64_t> padded = checked_add(a.extent, a.pad_before);
      if (padded) {
        padded = checked_add(*padded, a.pad_after);
      }
      if (!padded) {
        return fail("padded " + std::string(a.name) + " overflows int64 (" + a.name + " = " +
                    std::to_string(a.extent) + ")");
      }
      out_extent[axis] = *padded - a.kernel + 1;
      if (out_extent[axis] < 1) {
        return fail("output " + std::string(a.name) + " would be " +
                    std::to_string(out_extent[axis]) + " (" + a.formula + "); the output is empty");
      }
    }

    struct Count {
      const char* name;
      std::optional<std::int64_t> value;
      const char* formula;
    };
    for (const Count& c :
         {Count{"input", checked_product({batch, in_channels, height, width}),
                "batch * in_channels * height * width"},
          Count{"weight", checked_product({out_channels, in_channels, kernel_h, kernel_w}),
                "out_channels * in_channels * kernel_h * kernel_w"},
          Count{"output", checked_product({batch, out_channels, out_extent[0], out_extent[1]}),
                "batch * out_channels * output_height * output_width"}}) {
      if (!c.value) {
        return fail(std::string(c.name) + " element count (" + c.formula + ") overflows int64");
      }
    }
    return Status::success();
  }

  /// One-line description for error and test-failure messages, e.g.
  /// "Conv2dShape{batch=1, in_channels=3, out_channels=8, height=7, width=9,
  /// kernel=3x3, pad(top,bottom,left,right)=(1,1,0,2)}"; stride and dilation
  /// are shown only when they differ from 1.
  std::string to_string() const {
    std::string s = "Conv2dShape{batch=" + std::to_string(batch) +
                    ", in_channels=" + std::to_string(in_channels) +
                    ", out_channels=" + std::to_string(out_channels) +
                    ", height=" + std::to_string(height) + ", width=" + std::to_string(width) +
                    ", kernel=" + std::to_string(kernel_h) + "x" + std::to_string(kernel_w) +
                    ", pad(top,bottom,left,right)=(" + std::to_string(pad_top) + "," +
                    std::to_string(pad_bottom) + "," + std::to_string(pad_left) + "," +
                    std::to_string(pad_right) + ")";
    if (stride_h != 1 || stride_w != 1) {
      s += ", stride=" + std::to_string(stride_h) + "x" + std::to_string(stride_w);
    }
    if (dilation_h != 1 || dilation_w != 1) {
      s += ", dilation=" + std::to_string(dilation_h) + "x" + std::to_string(dilation_w);
    }
    s += "}";
    return s;
  }

  constexpr bool operator==(const Conv2dShape&) const = default;
};

}  // namespace sfc
