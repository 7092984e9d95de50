#pragma once
/// \file
/// Problems and baselines for the int8 convolution benchmark
/// (bench_conv_int8.cpp): int8 data, the two exact references
/// (`sfc::reference::conv2d_direct`, int8 and uint8 overloads), the
/// comparisons against them, and oneDNN's u8 x s8 -> s32 convolution.
///
/// Everything int8-independent (threads, SplitMix64, to_size, the OpenMP
/// macros, oneDNN's ISA and version) comes from baselines_f32.hpp; this file
/// only adds what int8 needs. Same conventions: stride 1, dilation 1, zero
/// padding, OIHW weights, NCHW activations, a bias of out_channels values.
/// Benchmark-only code: it lives in `sfc_bench`, not in the library.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "baselines_f32.hpp"

namespace sfc_bench {

// ---------------------------------------------------------------------------
// Problems: deterministic int8 data and the exact references
// ---------------------------------------------------------------------------

/// Weights are drawn from [-kInt8WeightMagnitude, kInt8WeightMagnitude - 1]:
/// s7, not s8. oneDNN on ISAs without VNNI (AVX2, AVX512_CORE) multiplies u8
/// by s8 with vpmaddubsw, which sums each pair of products in int16 with
/// saturation; with u8 input up to 255 only |w| <= 64 keeps 2 * 255 * 64 <
/// 2^15, and oneDNN documents that keeping clear of it is the user's job
/// ("Nuances of int8 computations"). With s7 weights oneDNN is exact on
/// every ISA, so that every entry computes the same problem and is checked
/// bit for bit. SFC's exact operator is exact for any s8 weights (its
/// checks, like the int32 overflow bound, assume the full s8 range).
inline constexpr int kInt8WeightMagnitude = 64;

/// Real value of one step of the int8 input and of the int8 weights, for
/// the quantized operator (which takes float weights): its float output
/// approximates the exact int32 output times kInt8InputStep *
/// kInt8WeightStep. Powers of two, so the float weights and bias are exact.
inline constexpr float kInt8InputStep = 0x1p-7f;
inline constexpr float kInt8WeightStep = 0x1p-8f;

/// One int8 convolution problem: shape, NCHW input in [-128, 127] (and the
/// same values + 128 as uint8, for oneDNN), OIHW int8 weights, int32 bias;
/// their real-valued float counterparts for the quantized operator; and the
/// exact references, computed on demand, once each.
struct Int8Problem {
  sfc::Conv2dShape shape;
  std::vector<std::int8_t> input;
  std::vector<std::uint8_t> input_u8;  // input + 128: oneDNN's u8 source
  std::vector<std::int8_t> weights;
  std::vector<std::int32_t> bias;
  std::vector<float> weights_f32;  // weights * kInt8WeightStep
  std::vector<float> bias_f32;     // bias * kInt8InputStep * kInt8WeightStep

  explicit Int8Problem(const sfc::Conv2dShape& s, std::uint64_t seed = 0x5FC0'0008) : shape(s) {
    sfc::throw_if_error(shape.validate(), "sfc_bench::Int8Problem");
    SplitMix64 rng(seed);
    input.resize(to_size(shape.input_elements()));
    for (std::int8_t& x : input) {
      x = static_cast<std::int8_t>(static_cast<int>(rng.next() >> 56) - 128);  // [-128, 127]
    }
    input_u8.resize(input.size());
    std::transform(input.begin(), input.end(), input_u8.begin(),
                   [](std::int8_t x) { return static_cast<std::uint8_t>(x + 128); });
    weights.resize(to_size(shape.weight_elements()));
    for (std::int8_t& w : weights) {
      const int draw = static_cast<int>(rng.next() >> 56) % (2 * kInt8WeightMagnitude);
      w = static_cast<std::int8_t>(draw - kInt8WeightMagnitude);
    }
    bias.resize(to_size(shape.out_channels));
    for (std::int32_t& b : bias) {
      // [-2^16, 2^16): the size of a typical output. Exact in float.
      b = static_cast<std::int32_t>(rng.next() >> 47) - (1 << 16);
    }
    weights_f32.resize(weights.size());
    std::transform(weights.begin(), weights.end(), weights_f32.begin(),
                   [](std::int8_t w) { return static_cast<float>(w) * kInt8WeightStep; });
    bias_f32.resize(bias.size());
    std::transform(bias.begin(), bias.end(), bias_f32.begin(), [](std::int32_t b) {
      return static_cast<float>(b) * (kInt8InputStep * kInt8WeightStep);
    });
  }

  /// `sfc::reference::conv2d_direct` on the int8 input (NCHW): what SFC's
  /// operators and naive compute.
  const std::vector<std::int32_t>& reference_s8() {
    if (reference_s8_.empty()) {
      reference_s8_ = compute_reference(std::span<const std::int8_t>(input));
    }
    return reference_s8_;
  }

  /// `sfc::reference::conv2d_direct` on the uint8 input with zero point 0
  /// (NCHW): what oneDNN computes. Not reference_s8() shifted by a constant:
  /// padding is 0 here, -128 in int8 terms.
  const std::vector<std::int32_t>& reference_u8() {
    if (reference_u8_.empty()) {
      reference_u8_ = compute_reference(std::span<const std::uint8_t>(input_u8));
    }
    return reference_u8_;
  }

 private:
  static void reference_call(const sfc::Conv2dShape& s, std::span<const std::int8_t> in,
                             std::span<const std::int8_t> w, std::span<const std::int32_t> b,
                             std::span<std::int32_t> out) {
    sfc::reference::conv2d_direct(s, in, w, b, out);
  }
  static void reference_call(const sfc::Conv2dShape& s, std::span<const std::uint8_t> in,
                             std::span<const std::int8_t> w, std::span<const std::int32_t> b,
                             std::span<std::int32_t> out) {
    sfc::reference::conv2d_direct(s, in, 0, w, b, out);
  }

  /// The reference split over images and blocks of output channels on every
  /// core, as in sfc_bench::Problem (each block is one call of the reference
  /// on a sub-shape, so the result is the reference's).
  template <class In>
  std::vector<std::int32_t> compute_reference(std::span<const In> in) const {
    const std::int64_t out_plane = shape.output_height() * shape.output_width();
    const std::int64_t in_image = shape.in_channels * shape.height * shape.width;
    const std::int64_t taps = shape.in_channels * shape.kernel_h * shape.kernel_w;
    constexpr std::int64_t kBlock = 16;  // output channels per task
    const std::int64_t blocks = (shape.out_channels + kBlock - 1) / kBlock;
    const std::int64_t tasks = shape.batch * blocks;
    std::vector<std::int32_t> out(to_size(shape.output_elements()));
    std::vector<std::string> errors(to_size(tasks));  // no exception may leave the loop
    const std::span<const std::int8_t> w(weights);
    const std::span<const std::int32_t> b(bias);
#if defined(_OPENMP)
    const int cores = omp_get_num_procs();
#endif
    SFC_BENCH_OMP_PARALLEL_FOR(cores)
    for (std::int64_t task = 0; task < tasks; ++task) {
      const std::int64_t n = task / blocks;
      const std::int64_t o0 = (task % blocks) * kBlock;
      const std::int64_t oc = std::min(kBlock, shape.out_channels - o0);
      sfc::Conv2dShape sub = shape;
      sub.batch = 1;
      sub.out_channels = oc;
      try {
        reference_call(
            sub, in.subspan(to_size(n * in_image), to_size(in_image)),
            w.subspan(to_size(o0 * taps), to_size(oc * taps)), b.subspan(to_size(o0), to_size(oc)),
            std::span<std::int32_t>(out).subspan(to_size((n * shape.out_channels + o0) * out_plane),
                                                 to_size(oc * out_plane)));
      } catch (const std::exception& e) {
        errors[to_size(task)] = e.what();
      }
    }
    for (const std::string& e : errors) {
      if (!e.empty()) {
        throw std::runtime_error(e);
      }
    }
    return out;
  }

  std::vector<std::int32_t> reference_s8_;
  std::vector<std::int32_t> reference_u8_;
};

// ---------------------------------------------------------------------------
// Comparisons
// ---------------------------------------------------------------------------

/// An output compared with its reference: the normwise relative error
/// max_i |got_i - want_i| / max_i |want_i| (as sfc_bench::max_relative_error)
/// and, for integer outputs, how many elements differ (0: bit-exact).
struct Comparison {
  double max_rel_err = 0.0;
  std::int64_t mismatches = 0;
  std::int64_t first_mismatch = -1;  // index of the first differing element
};

/// int32 output against its int32 reference, element by element.
inline Comparison compare_exact(std::span<const std::int32_t> got,
                                std::span<const std::int32_t> want) {
  Comparison c;
  if (got.size() != want.size()) {
    c.max_rel_err = INFINITY;
    c.mismatches = static_cast<std::int64_t>(std::max(got.size(), want.size()));
    c.first_mismatch = 0;
    return c;
  }
  double max_err = 0.0;
  double max_ref = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      if (c.mismatches++ == 0) {
        c.first_mismatch = static_cast<std::int64_t>(i);
      }
      max_err = std::max(max_err, std::fabs(static_cast<double>(got[i]) - want[i]));
    }
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(want[i])));
  }
  c.max_rel_err = max_ref > 0.0 ? max_err / max_ref : max_err;
  return c;
}

/// Real-valued output `got` against `scale` times the exact int32 reference.
/// Infinite when the sizes differ or `got` holds a NaN.
inline double max_relative_error(std::span<const float> got, std::span<const std::int32_t> want,
                                 double scale) {
  if (got.size() != want.size()) {
    return INFINITY;
  }
  double max_err = 0.0;
  double max_ref = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double ref = scale * static_cast<double>(want[i]);
    const double err = std::fabs(static_cast<double>(got[i]) - ref);
    if (!(err <= max_err)) {  // also catches NaN
      max_err = std::isnan(err) ? INFINITY : err;
    }
    max_ref = std::max(max_ref, std::fabs(ref));
  }
  return max_ref > 0.0 ? max_err / max_ref : max_err;
}

/// NCHW -> NHWC copy of an activation tensor of any element type.
template <class T>
std::vector<T> to_nhwc(std::span<const T> src, std::int64_t batch, std::int64_t channels,
                       std::int64_t height, std::int64_t width) {
  std::vector<T> dst(src.size());
  const std::int64_t plane = height * width;
  for (std::int64_t n = 0; n < batch; ++n) {
    for (std::int64_t c = 0; c < channels; ++c) {
      for (std::int64_t p = 0; p < plane; ++p) {
        dst[to_size((n * plane + p) * channels + c)] = src[to_size((n * channels + c) * plane + p)];
      }
    }
  }
  return dst;
}

/// NHWC -> NCHW copy of an activation tensor of any element type.
template <class T>
std::vector<T> to_nchw(std::span<const T> src, std::int64_t batch, std::int64_t channels,
                       std::int64_t height, std::int64_t width) {
  std::vector<T> dst(src.size());
  const std::int64_t plane = height * width;
  for (std::int64_t n = 0; n < batch; ++n) {
    for (std::int64_t c = 0; c < channels; ++c) {
      for (std::int64_t p = 0; p < plane; ++p) {
        dst[to_size((n * channels + c) * plane + p)] = src[to_size((n * plane + p) * channels + c)];
      }
    }
  }
  return dst;
}

// ---------------------------------------------------------------------------
// oneDNN
// ---------------------------------------------------------------------------

#if defined(SFC_BENCH_HAVE_ONEDNN)

/// One oneDNN forward-inference int8 convolution: src u8, weights s8, dst
/// s32, no scales, no zero points, `any` formats for src, weights and dst
/// (the primitive picks its blocked or NHWC layouts). The bias is s32 when
/// the implementation accepts it, else f32 (the constructor tries s32
/// first; bias_type() says which). Both are exact here: oneDNN adds the bias
/// to the int32 sum converted to f32 and rounds back, exact while |sum| <
/// 2^24, and the sums of these problems stay below ~2^21.
///
/// Setup (primitive creation, weight and bias reorders, scratchpad
/// allocation) happens in the constructor; `load_input` / `store_output`
/// reorder between plain NCHW and the primitive's layouts, outside any timed
/// region; `run` executes the primitive alone. The constructor throws a
/// std::runtime_error naming the algorithm and the ISA when oneDNN has no
/// implementation (e.g. int8 Winograd without AVX-512).
///
/// Create it after set_threads(): oneDNN's JIT kernels choose their blocking
/// from the thread count at creation time.
class OnednnInt8Conv {
 public:
  OnednnInt8Conv(const sfc::Conv2dShape& s, std::span<const std::int8_t> weights,
                 std::span<const std::int32_t> bias, dnnl::algorithm algorithm)
      : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
    using dnnl::memory;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    const memory::dims src_dims{s.batch, s.in_channels, s.height, s.width};
    const memory::dims wei_dims{s.out_channels, s.in_channels, s.kernel_h, s.kernel_w};
    const memory::dims bias_dims{s.out_channels};
    const memory::dims dst_dims{s.batch, s.out_channels, s.output_height(), s.output_width()};
    const memory::dims strides{1, 1};
    const memory::dims pad_l{s.pad_top, s.pad_left};
    const memory::dims pad_r{s.pad_bottom, s.pad_right};

    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const memory::desc src_any(src_dims, dt::u8, tag::any);
    const memory::desc wei_any(wei_dims, dt::s8, tag::any);
    const memory::desc dst_any(dst_dims, dt::s32, tag::any);
    std::string refusals;
    for (const dt bias_type : {dt::s32, dt::f32}) {
      const memory::desc bias_md(bias_dims, bias_type, tag::a);
      try {
#if DNNL_VERSION_MAJOR >= 3
        pd_ = dnnl::convolution_forward::primitive_desc(engine_, dnnl::prop_kind::forward_inference,
                                                        algorithm, src_any, wei_any, bias_md,
                                                        dst_any, strides, pad_l, pad_r, attr);
#else
        const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm,
                                                   src_any, wei_any, bias_md, dst_any, strides,
                                                   pad_l, pad_r);
        pd_ = dnnl::convolution_forward::primitive_desc(desc, attr, engine_);
#endif
        bias_type_ = bias_type;
        break;
      } catch (const dnnl::error& e) {
        // (dnnl::error keeps a bare pointer to its message: copy it now.)
        refusals += std::string(refusals.empty() ? "" : "; ") +
                    (bias_type == dt::s32 ? "s32" : "f32") + " bias: " + e.what();
      }
    }
    if (!pd_) {
      const char* algorithm_name = algorithm == dnnl::algorithm::convolution_winograd
                                       ? "convolution_winograd"
                                       : "convolution_direct";
      throw std::runtime_error("oneDNN has no u8s8s32 " + std::string(algorithm_name) +
                               " implementation for this shape on ISA " + onednn_isa_name() + " (" +
                               refusals + ")");
    }
    conv_ = dnnl::convolution_forward(pd_);

    user_src_ = memory({src_dims, dt::u8, tag::nchw}, engine_);
    user_dst_ = memory({dst_dims, dt::s32, tag::nchw}, engine_);
    src_ = pd_.src_desc() == user_src_.get_desc() ? user_src_ : memory(pd_.src_desc(), engine_);
    dst_ = pd_.dst_desc() == user_dst_.get_desc() ? user_dst_ : memory(pd_.dst_desc(), engine_);

    load_weights(wei_dims, weights);
    memory user_bias({bias_dims, dt::s32, tag::a}, engine_);
    write(user_bias, bias);
    bias_ = pd_.bias_desc() == user_bias.get_desc() ? user_bias : memory(pd_.bias_desc(), engine_);
    reorder(user_bias, bias_);  // s32 -> f32 when the bias is f32: exact (|bias| < 2^24)
    scratchpad_ = memory(pd_.scratchpad_desc(), engine_);
  }

  /// Plain NCHW `input` -> the primitive's source memory.
  void load_input(std::span<const std::uint8_t> input) {
    write(user_src_, input);
    reorder(user_src_, src_);
  }

  /// The primitive's destination memory -> plain NCHW `output`.
  void store_output(std::span<std::int32_t> output) {
    reorder(dst_, user_dst_);
    const auto* data = static_cast<const std::int32_t*>(user_dst_.get_data_handle());
    std::copy(data, data + output.size(), output.begin());
  }

  /// Executes the convolution (and waits for it).
  void run() {
    conv_.execute(stream_, {{DNNL_ARG_SRC, src_},
                            {DNNL_ARG_WEIGHTS, weights_},
                            {DNNL_ARG_BIAS, bias_},
                            {DNNL_ARG_DST, dst_},
                            {DNNL_ARG_SCRATCHPAD, scratchpad_}});
    stream_.wait();
  }

  /// oneDNN's implementation name, e.g. "brg:avx512_core_vnni".
  std::string impl_info() const { return pd_.impl_info_str(); }

  /// "s32" or "f32": the bias type the primitive accepted.
  std::string bias_type() const {
    return bias_type_ == dnnl::memory::data_type::s32 ? "s32" : "f32";
  }

 private:
  template <class T>
  static void write(const dnnl::memory& m, std::span<const T> values) {
    std::copy(values.begin(), values.end(), static_cast<T*>(m.get_data_handle()));
  }

  /// OIHW s8 weights -> the primitive's weights memory. A Winograd weights
  /// format may have no reorder from s8 (oneDNN transforms Winograd weights
  /// from f32); then the same values go through an f32 OIHW tensor.
  void load_weights(const dnnl::memory::dims& dims, std::span<const std::int8_t> weights) {
    using dnnl::memory;
    memory user_wei({dims, memory::data_type::s8, memory::format_tag::oihw}, engine_);
    write(user_wei, weights);
    if (pd_.weights_desc() == user_wei.get_desc()) {
      weights_ = user_wei;
      return;
    }
    weights_ = memory(pd_.weights_desc(), engine_);
    try {
      reorder(user_wei, weights_);
    } catch (const dnnl::error&) {
      memory user_f32({dims, memory::data_type::f32, memory::format_tag::oihw}, engine_);
      auto* data = static_cast<float*>(user_f32.get_data_handle());
      std::transform(weights.begin(), weights.end(), data,
                     [](std::int8_t w) { return static_cast<float>(w); });
      reorder(user_f32, weights_);
    }
  }

  void reorder(dnnl::memory& from, dnnl::memory& to) {
    if (from == to) {
      return;
    }
    dnnl::reorder(from, to).execute(stream_, from, to);
    stream_.wait();
  }

  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::convolution_forward::primitive_desc pd_;
  dnnl::convolution_forward conv_;
  dnnl::memory::data_type bias_type_ = dnnl::memory::data_type::s32;
  dnnl::memory user_src_, user_dst_, src_, dst_, weights_, bias_, scratchpad_;
};

#endif  // SFC_BENCH_HAVE_ONEDNN

}  // namespace sfc_bench
