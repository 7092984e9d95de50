#pragma once
// Argument validation shared by every convolution entry point: buffer sizes
// against the shape, null pointers, the bias length, output aliasing,
// layouts and quantization scales.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"

namespace sfc {

namespace detail {

[[noreturn]] inline void buffer_error(std::string_view who, const std::string& message) {
  throw Error(std::string(who) + ": " + message);
}

/// Throws unless `buffer` holds at least `required` (> 0) elements and is not null.
template <class T>
void check_buffer(std::string_view who, std::string_view name, std::span<T> buffer,
                  std::int64_t required) {
  if (buffer.size() < static_cast<std::uint64_t>(required)) {
    buffer_error(who, std::string(name) + " buffer has " + std::to_string(buffer.size()) +
                          " elements, shape needs " + std::to_string(required));
  }
  if (buffer.data() == nullptr) {
    buffer_error(who, std::string(name) + " buffer is null, shape needs " +
                          std::to_string(required) + " elements");
  }
}

/// True when the first `a_count` elements of `a` and `b_count` of `b` share memory.
template <class A, class B>
bool overlaps(const A* a, std::int64_t a_count, const B* b, std::int64_t b_count) noexcept {
  if (a == nullptr || b == nullptr || a_count == 0 || b_count == 0) {
    return false;
  }
  // std::less gives a total order even for pointers into unrelated objects.
  const auto* a_begin = reinterpret_cast<const std::byte*>(a);
  const auto* b_begin = reinterpret_cast<const std::byte*>(b);
  const auto* a_end = reinterpret_cast<const std::byte*>(a + a_count);
  const auto* b_end = reinterpret_cast<const std::byte*>(b + b_count);
  const std::less<const std::byte*> less;
  return less(a_begin, b_end) && less(b_begin, a_end);
}

/// Throws unless `bias` is empty or holds exactly out_channels values.
template <class B>
void check_bias(std::string_view who, const Conv2dShape& shape, std::span<B> bias) {
  if (bias.empty()) return;
  if (bias.size() != static_cast<std::uint64_t>(shape.out_channels)) {
    buffer_error(who, "bias has " + std::to_string(bias.size()) +
                          " elements, expected 0 (no bias) or out_channels = " +
                          std::to_string(shape.out_channels));
  }
  if (bias.data() == nullptr) {
    buffer_error(who, "bias buffer is null but has " + std::to_string(bias.size()) + " elements");
  }
}

/// Throws unless every value is finite ("<what> element i is not finite").
template <class T>
void check_finite(std::string_view who, std::string_view what, std::span<const T> values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      buffer_error(who, std::string(what) + " element " + std::to_string(i) + " is not finite");
    }
  }
}

/// `value` as printf's %g prints it ("1e-40" where std::to_string gives
/// "0.000000"), for error messages.
inline std::string format_g(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

/// Whether `s` can serve as a quantization scale: finite, positive and a
/// normal float (>= 2^-126; 1 / s is then finite too). The operators and
/// the calibration tools apply this one rule.
inline bool usable_scale(float s) noexcept {
  return std::isfinite(s) && s >= std::numeric_limits<float>::min();
}

/// Throws unless usable_scale(s) ("<what> must be finite and positive (a
/// normal float, >= 1.17549e-38), got 1e-40").
inline void check_scale(std::string_view who, std::string_view what, float s) {
  if (!usable_scale(s)) {
    buffer_error(who, std::string(what) + " must be finite and positive (a normal float, >= " +
                          format_g(std::numeric_limits<float>::min()) + "), got " + format_g(s));
  }
}

/// Throws unless `bits`, a width of quantization codes, is one the quantized
/// operator supports: 4 to 8 ("<what> must be in [4, 8] (got 3)").
inline void check_code_bits(std::string_view who, std::string_view what, int bits) {
  if (bits < 4 || bits > 8) {
    buffer_error(who, std::string(what) + " must be in [4, 8] (got " + std::to_string(bits) + ")");
  }
}

/// Throws unless `layout` is one of the enumerators (a value cast from an
/// out-of-range integer is not).
inline void check_layout(std::string_view who, std::string_view what, Layout layout) {
  if (layout != Layout::NCHW && layout != Layout::NHWC) {
    buffer_error(who, std::string(what) + " is not a Layout (value " +
                          std::to_string(static_cast<int>(layout)) + "); use NCHW or NHWC");
  }
}

/// Throws unless the kernel of `shape` is R x R (an operator's algorithm).
inline void check_kernel(std::string_view who, const Conv2dShape& shape, int R) {
  if (shape.kernel_h != R || shape.kernel_w != R) {
    buffer_error(who, "kernel " + std::to_string(shape.kernel_h) + "x" +
                          std::to_string(shape.kernel_w) + " does not match the algorithm's " +
                          std::to_string(R) + "x" + std::to_string(R));
  }
}

/// The arguments of an operator's run(): input and output hold what `shape`
/// needs, are not null and do not overlap.
template <class In, class Out>
void check_run_buffers(std::string_view who, const Conv2dShape& shape, std::span<In> input,
                       std::span<Out> output) {
  check_buffer(who, "input", input, shape.input_elements());
  check_buffer(who, "output", output, shape.output_elements());
  if (overlaps(output.data(), shape.output_elements(), input.data(), shape.input_elements())) {
    buffer_error(who, "output buffer overlaps input buffer");
  }
}

/// Throws if an operator's packed weights are gone: `packed` is null only in
/// a plan that was moved from.
inline void check_planned(std::string_view who, const void* packed) {
  if (packed == nullptr) {
    buffer_error(who, "run() on a plan that was moved from (assign or construct a plan first)");
  }
}

/// A caller's workspace: at least `need` elements, overlapping neither the
/// input nor the output of the call.
template <class W, class In, class Out>
void check_workspace(std::string_view who, const Conv2dShape& shape, std::span<W> workspace,
                     std::int64_t need, const In* input, const Out* output) {
  check_buffer(who, "workspace", workspace, need);
  if (overlaps(workspace.data(), need, input, shape.input_elements()) ||
      overlaps(workspace.data(), need, output, shape.output_elements())) {
    buffer_error(who, "workspace overlaps the input or output buffer");
  }
}

}  // namespace detail

/// Validates the buffers of a convolution call with a valid `shape`: input,
/// weight and output hold at least what the shape needs and are not null; the
/// bias is empty or has exactly out_channels elements; the output overlaps no
/// other buffer. Throws sfc::Error with the message prefixed by `who`.
template <class In, class Wt, class Bias, class Out>
void check_conv_buffers(std::string_view who, const Conv2dShape& shape, std::span<In> input,
                        std::span<Wt> weights, std::span<Bias> bias, std::span<Out> output) {
  const std::int64_t input_count = shape.input_elements();
  const std::int64_t weight_count = shape.weight_elements();
  const std::int64_t output_count = shape.output_elements();
  detail::check_buffer(who, "input", input, input_count);
  detail::check_buffer(who, "weight", weights, weight_count);
  detail::check_buffer(who, "output", output, output_count);
  detail::check_bias(who, shape, bias);
  if (detail::overlaps(output.data(), output_count, input.data(), input_count)) {
    detail::buffer_error(who, "output buffer overlaps input buffer");
  }
  if (detail::overlaps(output.data(), output_count, weights.data(), weight_count)) {
    detail::buffer_error(who, "output buffer overlaps weight buffer");
  }
  if (detail::overlaps(output.data(), output_count, bias.data(),
                       static_cast<std::int64_t>(bias.size()))) {
    detail::buffer_error(who, "output buffer overlaps bias buffer");
  }
}

}  // namespace sfc
