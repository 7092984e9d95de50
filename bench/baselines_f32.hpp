#pragma once
/// \file
/// Baselines for the fp32 convolution benchmark (bench_conv_f32.cpp): the
/// problems they run on, the correctness check against
/// `sfc::reference::conv2d_direct`, im2col + Eigen GEMM, and oneDNN.
///
/// Convention everywhere: stride 1, dilation 1, zero padding, OIHW weights,
/// NCHW activations, a bias of out_channels values. Benchmark-only code: it
/// lives in `sfc_bench`, not in the library.
///
/// Threads: im2col + Eigen and oneDNN (Debian builds it with the OpenMP
/// runtime) are threaded through OpenMP; `set_threads()` sets both OpenMP's
/// and Eigen's thread count. Without OpenMP (not compiled with -fopenmp)
/// im2col + Eigen runs on one thread whatever is asked (`openmp_enabled()`
/// says so), and the build leaves oneDNN out, whose threads could then not be
/// set.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <sfc/core/conv_shape.hpp>
#include <sfc/reference/direct_conv.hpp>

#if defined(_OPENMP)
#include <omp.h>
#define SFC_BENCH_PRAGMA(text) _Pragma(#text)
/// `#pragma omp parallel for` on `threads` threads; nothing without OpenMP.
#define SFC_BENCH_OMP_PARALLEL_FOR(threads) \
  SFC_BENCH_PRAGMA(omp parallel for num_threads(threads) schedule(static))
#else
#define SFC_BENCH_OMP_PARALLEL_FOR(threads)
#endif

#if defined(SFC_BENCH_HAVE_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace sfc_bench {

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------

constexpr bool openmp_enabled() noexcept {
#if defined(_OPENMP)
  return true;
#else
  return false;
#endif
}

/// Thread count for everything OpenMP-based that runs next on this thread
/// (oneDNN, Eigen's GEMM, the im2col loop).
inline void set_threads(int threads) {
#if defined(_OPENMP)
  omp_set_num_threads(threads);
#endif
  Eigen::setNbThreads(threads);
}

// ---------------------------------------------------------------------------
// Problems: deterministic data and the reference output
// ---------------------------------------------------------------------------

/// SplitMix64: a fixed, platform-independent sequence (std::uniform_real_
/// distribution is not specified bit for bit across standard libraries).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}

  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  /// Uniform in [-1, 1), a multiple of 2^-23.
  float uniform() noexcept {
    const auto bits = static_cast<std::int32_t>(next() >> 40);  // 24 bits
    return static_cast<float>(bits - (1 << 23)) * 0x1p-23f;
  }

 private:
  std::uint64_t state_;
};

inline std::size_t to_size(std::int64_t n) { return static_cast<std::size_t>(n); }

/// One convolution problem: shape, NCHW input, OIHW weights, bias, and the
/// reference NCHW output (computed on demand, once).
struct Problem {
  sfc::Conv2dShape shape;
  std::vector<float> input;
  std::vector<float> weights;
  std::vector<float> bias;

  explicit Problem(const sfc::Conv2dShape& s, std::uint64_t seed = 0x5FC0'0001) : shape(s) {
    sfc::throw_if_error(shape.validate(), "sfc_bench::Problem");
    SplitMix64 rng(seed);
    const auto fill = [&rng](std::vector<float>& v, std::int64_t n) {
      v.resize(to_size(n));
      for (float& x : v) {
        x = rng.uniform();
      }
    };
    fill(input, shape.input_elements());
    fill(weights, shape.weight_elements());
    fill(bias, shape.out_channels);
  }

  /// The output of `sfc::reference::conv2d_direct` (NCHW). The first call
  /// computes it, split over images and blocks of output channels on every
  /// core (each block is one call of the reference on a sub-shape, so the
  /// result is the reference's, bit for bit).
  const std::vector<float>& reference_output() {
    if (reference_.empty()) {
      compute_reference();
    }
    return reference_;
  }

 private:
  void compute_reference() {
    const std::int64_t out_plane = shape.output_height() * shape.output_width();
    const std::int64_t in_image = shape.in_channels * shape.height * shape.width;
    const std::int64_t taps = shape.in_channels * shape.kernel_h * shape.kernel_w;
    constexpr std::int64_t kBlock = 16;  // output channels per task
    const std::int64_t blocks = (shape.out_channels + kBlock - 1) / kBlock;
    const std::int64_t tasks = shape.batch * blocks;
    std::vector<float> out(to_size(shape.output_elements()));
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
      sfc::reference::conv2d_direct(
          sub, std::span<const float>(input).subspan(to_size(n * in_image), to_size(in_image)),
          std::span<const float>(weights).subspan(to_size(o0 * taps), to_size(oc * taps)),
          std::span<const float>(bias).subspan(to_size(o0), to_size(oc)),
          std::span<float>(out).subspan(to_size((n * shape.out_channels + o0) * out_plane),
                                        to_size(oc * out_plane)));
    }
    reference_ = std::move(out);
  }

  std::vector<float> reference_;
};

/// Normwise relative error max_i |got_i - want_i| / max_i |want_i| (an
/// elementwise relative error would be dominated by outputs that cancel to
/// nearly zero). Infinite when the sizes differ or `got` holds a NaN.
inline double max_relative_error(std::span<const float> got, std::span<const float> want) {
  if (got.size() != want.size()) {
    return INFINITY;
  }
  double max_err = 0.0;
  double max_ref = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (!(err <= max_err)) {  // also catches NaN
      max_err = std::isnan(err) ? INFINITY : err;
    }
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(want[i])));
  }
  return max_ref > 0.0 ? max_err / max_ref : max_err;
}

/// NCHW -> NHWC copy of an activation tensor.
inline std::vector<float> nchw_to_nhwc(std::span<const float> src, std::int64_t batch,
                                       std::int64_t channels, std::int64_t height,
                                       std::int64_t width) {
  std::vector<float> dst(src.size());
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

/// NHWC -> NCHW copy of an activation tensor.
inline std::vector<float> nhwc_to_nchw(std::span<const float> src, std::int64_t batch,
                                       std::int64_t channels, std::int64_t height,
                                       std::int64_t width) {
  std::vector<float> dst(src.size());
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
// im2col + Eigen GEMM
// ---------------------------------------------------------------------------

/// Per image: im2col into a row-major [Cin*R*S x Ho*Wo] column matrix, then
/// out = W * col with W the [Cout x Cin*R*S] row-major view of the OIHW
/// weights (one Eigen GEMM, accumulating onto the bias). The NCHW output of
/// an image is exactly that [Cout x Ho*Wo] row-major matrix. The column
/// buffer is allocated once, in the constructor.
class Im2colEigenConv {
 public:
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  Im2colEigenConv(const sfc::Conv2dShape& shape, std::span<const float> weights,
                  std::span<const float> bias)
      : shape_(shape),
        out_h_(shape.output_height()),
        out_w_(shape.output_width()),
        rows_(shape.in_channels * shape.kernel_h * shape.kernel_w),
        weights_(weights.begin(), weights.end()),
        bias_(bias.begin(), bias.end()),
        columns_(to_size(rows_ * out_h_ * out_w_)) {
    sfc::throw_if_error(shape.validate(), "sfc_bench::Im2colEigenConv");
    if (weights.size() != to_size(shape.weight_elements()) ||
        bias.size() != to_size(shape.out_channels)) {
      throw std::invalid_argument("Im2colEigenConv: weights or bias have the wrong size");
    }
  }

  /// NCHW input -> NCHW output; im2col on `threads` OpenMP threads, the GEMM
  /// on Eigen's thread count (see set_threads()).
  void run(std::span<const float> input, std::span<float> output, int threads) {
    const std::int64_t plane = out_h_ * out_w_;
    const std::int64_t in_image = shape_.in_channels * shape_.height * shape_.width;
    const Eigen::Map<const RowMajor> w(weights_.data(), shape_.out_channels, rows_);
    const Eigen::Map<const RowMajor> col(columns_.data(), rows_, plane);
    const Eigen::Map<const Eigen::VectorXf> b(bias_.data(), shape_.out_channels);
    for (std::int64_t n = 0; n < shape_.batch; ++n) {
      im2col(input.subspan(to_size(n * in_image), to_size(in_image)), threads);
      Eigen::Map<RowMajor> out(output.data() + n * shape_.out_channels * plane,
                               shape_.out_channels, plane);
      out.colwise() = b;
      out.noalias() += w * col;
    }
  }

 private:
  /// columns_[(c*R + ky)*S + kx][y*Wo + x] = in_padded[c][y + ky][x + kx].
  void im2col(std::span<const float> image, [[maybe_unused]] int threads) {
    const std::int64_t kh = shape_.kernel_h;
    const std::int64_t kw = shape_.kernel_w;
    const std::int64_t h = shape_.height;
    const std::int64_t w = shape_.width;
    const std::int64_t rows = rows_;
    SFC_BENCH_OMP_PARALLEL_FOR(threads)
    for (std::int64_t row = 0; row < rows; ++row) {
      const std::int64_t c = row / (kh * kw);
      const std::int64_t ky = (row / kw) % kh;
      const std::int64_t kx = row % kw;
      // Output columns x whose input column x + kx - pad_left lies inside.
      const std::int64_t x_begin = std::clamp<std::int64_t>(shape_.pad_left - kx, 0, out_w_);
      const std::int64_t x_end = std::clamp<std::int64_t>(w + shape_.pad_left - kx, x_begin, out_w_);
      float* dst_row = columns_.data() + row * out_h_ * out_w_;
      for (std::int64_t y = 0; y < out_h_; ++y) {
        float* dst = dst_row + y * out_w_;
        const std::int64_t iy = y + ky - shape_.pad_top;
        if (iy < 0 || iy >= h) {
          std::fill(dst, dst + out_w_, 0.0f);
          continue;
        }
        const float* src = image.data() + (c * h + iy) * w + (x_begin + kx - shape_.pad_left);
        std::fill(dst, dst + x_begin, 0.0f);
        std::memcpy(dst + x_begin, src, to_size(x_end - x_begin) * sizeof(float));
        std::fill(dst + x_end, dst + out_w_, 0.0f);
      }
    }
  }

  sfc::Conv2dShape shape_;
  std::int64_t out_h_;
  std::int64_t out_w_;
  std::int64_t rows_;  // Cin * R * S
  std::vector<float> weights_;
  std::vector<float> bias_;
  std::vector<float> columns_;
};

// ---------------------------------------------------------------------------
// oneDNN
// ---------------------------------------------------------------------------

#if defined(SFC_BENCH_HAVE_ONEDNN)

/// Name of the ISA oneDNN dispatches to (after DNNL_MAX_CPU_ISA and the CPU).
inline std::string onednn_isa_name() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::all: return "all";
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    default: return "unknown (" + std::to_string(static_cast<int>(dnnl::get_effective_cpu_isa())) + ")";
  }
}

inline std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

/// One oneDNN forward-inference convolution with `any` memory formats, so the
/// primitive picks its own (blocked) layouts. Setup (primitive creation,
/// weight and bias reorders, scratchpad allocation) happens in the
/// constructor; `load_input` / `store_output` reorder between plain NCHW and
/// the primitive's layout, outside any timed region; `run` executes the
/// primitive alone. The constructor throws when oneDNN has no
/// implementation (e.g. Winograd on an ISA or shape it does not support) with
/// a std::runtime_error naming the algorithm and the ISA.
///
/// Create it after set_threads(): oneDNN's JIT kernels choose their blocking
/// from the thread count at creation time.
class OnednnConv {
 public:
  OnednnConv(const sfc::Conv2dShape& s, std::span<const float> weights,
             std::span<const float> bias, dnnl::algorithm algorithm)
      : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
    using dnnl::memory;
    using tag = memory::format_tag;
    constexpr auto f32 = memory::data_type::f32;
    const memory::dims src_dims{s.batch, s.in_channels, s.height, s.width};
    const memory::dims wei_dims{s.out_channels, s.in_channels, s.kernel_h, s.kernel_w};
    const memory::dims bias_dims{s.out_channels};
    const memory::dims dst_dims{s.batch, s.out_channels, s.output_height(), s.output_width()};
    const memory::dims strides{1, 1};
    const memory::dims pad_l{s.pad_top, s.pad_left};
    const memory::dims pad_r{s.pad_bottom, s.pad_right};

    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const memory::desc src_any(src_dims, f32, tag::any);
    const memory::desc wei_any(wei_dims, f32, tag::any);
    const memory::desc bias_md(bias_dims, f32, tag::a);
    const memory::desc dst_any(dst_dims, f32, tag::any);
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
    } catch (const dnnl::error& e) {
      const char* algorithm_name =
          algorithm == dnnl::algorithm::convolution_winograd ? "convolution_winograd"
                                                             : "convolution_direct";
      // (dnnl::error keeps a bare pointer to its message: report our own.)
      throw std::runtime_error("oneDNN has no " + std::string(algorithm_name) +
                               " implementation for this shape on ISA " + onednn_isa_name() +
                               " (" + e.what() + ")");
    }
    conv_ = dnnl::convolution_forward(pd_);

    user_src_ = memory({src_dims, f32, tag::nchw}, engine_);
    user_dst_ = memory({dst_dims, f32, tag::nchw}, engine_);
    src_ = pd_.src_desc() == user_src_.get_desc() ? user_src_ : memory(pd_.src_desc(), engine_);
    dst_ = pd_.dst_desc() == user_dst_.get_desc() ? user_dst_ : memory(pd_.dst_desc(), engine_);

    memory user_wei({wei_dims, f32, tag::oihw}, engine_);
    write(user_wei, weights);
    weights_ = pd_.weights_desc() == user_wei.get_desc() ? user_wei
                                                          : memory(pd_.weights_desc(), engine_);
    reorder(user_wei, weights_);
    bias_ = memory(pd_.bias_desc(), engine_);
    write(bias_, bias);
    scratchpad_ = memory(pd_.scratchpad_desc(), engine_);
  }

  /// Plain NCHW `input` -> the primitive's source memory.
  void load_input(std::span<const float> input) {
    write(user_src_, input);
    reorder(user_src_, src_);
  }

  /// The primitive's destination memory -> plain NCHW `output`.
  void store_output(std::span<float> output) {
    reorder(dst_, user_dst_);
    const auto* data = static_cast<const float*>(user_dst_.get_data_handle());
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

  /// oneDNN's implementation name, e.g. "jit:avx512_core" or "brgconv:avx512_core".
  std::string impl_info() const { return pd_.impl_info_str(); }

 private:
  static void write(const dnnl::memory& m, std::span<const float> values) {
    std::copy(values.begin(), values.end(), static_cast<float*>(m.get_data_handle()));
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
  dnnl::memory user_src_, user_dst_, src_, dst_, weights_, bias_, scratchpad_;
};

#endif  // SFC_BENCH_HAVE_ONEDNN

}  // namespace sfc_bench
