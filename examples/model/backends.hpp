#pragma once
/// \file
/// Float convolution backends for Network (network.hpp):
///
/// - `direct_float_backend()`: direct convolution in float (DirectFloatBackend).
/// - `sfc_float_backend(alg3x3)`: the library's operator sfc::Conv2d<float,
///   Alg>, with the algorithm chosen by kernel size: 3x3 -> `alg3x3`
///   (SFC-6(7x7,3x3) by default, SFC-6(6x6,3x3), SFC-4(4x4,3x3), or Winograd
///   F(2x2,3x3) / F(4x4,3x3) for comparison); 5x5 -> SFC-6(6x6,5x5);
///   7x7 -> SFC-6(4x4,7x7); any other kernel size (1x1, 9x9, ...) has no
///   fast algorithm here and runs direct (the backend's name() says so).
///
/// Each sfc::Conv2d instantiation costs seconds of compile time; this header
/// instantiates seven (five 3x3 algorithms, one 5x5, one 7x7), only in the
/// translation units that call sfc_float_backend().

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "network.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/parallel.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/layers/conv2d.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace sfc::examples {

namespace detail {

/// Threads for a request: 0 = OpenMP's default; 1 without OpenMP.
inline int resolve_threads(int requested) {
  if (requested < 0)
    throw std::invalid_argument("threads must be >= 0, got " + std::to_string(requested));
#if defined(_OPENMP)
  return requested == 0 ? omp_get_max_threads() : requested;
#else
  (void)requested;
  return 1;
#endif
}

inline int thread_index() {
#if defined(_OPENMP)
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/// Throws unless `layer` is a conv these backends compute: positive sizes,
/// an odd kernel with pad (kernel - 1) / 2, and weight and bias spans of
/// the right sizes.
inline void check_layer(const ConvLayer& layer, const char* who) {
  if (layer.kernel < 1 || layer.kernel % 2 == 0 || layer.pad != (layer.kernel - 1) / 2 ||
      layer.in_channels < 1 || layer.out_channels < 1 || layer.height < 1 || layer.width < 1) {
    throw std::invalid_argument(std::string(who) + " " + layer.name +
                                ": unsupported layer (positive sizes, an odd kernel and "
                                "pad = (kernel - 1) / 2 are required)");
  }
  const std::size_t taps =
      static_cast<std::size_t>(layer.kernel) * static_cast<std::size_t>(layer.kernel);
  if (layer.weight.size() != static_cast<std::size_t>(layer.out_channels) *
                                 static_cast<std::size_t>(layer.in_channels) * taps ||
      layer.bias.size() != static_cast<std::size_t>(layer.out_channels)) {
    throw std::invalid_argument(std::string(who) + " " + layer.name + ": " +
                                std::to_string(layer.weight.size()) + " weights and " +
                                std::to_string(layer.bias.size()) +
                                " biases do not match the layer's shape");
  }
}

/// Throws unless `input` and `output` hold exactly one batch of `layer`.
inline void check_run(const ConvLayer& layer, const char* who, std::span<const float> input,
                      std::span<float> output, int batch) {
  if (batch < 1) throw std::invalid_argument(std::string(who) + ": batch must be >= 1");
  if (input.size() != static_cast<std::size_t>(layer.input_elements(batch)) ||
      output.size() != static_cast<std::size_t>(layer.output_elements(batch))) {
    throw std::invalid_argument(
        std::string(who) + " " + layer.name + ": buffers of " + std::to_string(input.size()) +
        " and " + std::to_string(output.size()) + " floats, expected " +
        std::to_string(layer.input_elements(batch)) + " and " +
        std::to_string(layer.output_elements(batch)) + " for batch " + std::to_string(batch));
  }
}

}  // namespace detail

/// Direct convolution in float, accumulating in float: each output is
/// bias + sum over input channels (in order) of its taps (row by row), with
/// no fused multiply-adds, whatever the thread count.
///
/// Layout trick ("wide rows"): each input plane is copied once per run into
/// a zero-padded plane with rows of Wp = W + 2 pad floats. An output plane
/// is computed as H rows of Wp values, where element j = y * Wp + x receives
/// w[ky][kx] * padded[j + ky * Wp + kx] for every tap; so a tap is a
/// contiguous multiply-add over the row, with no bounds tests, and the pad
/// columns of each wide row are discarded at the end.
///
/// Register blocking: a block of kOutBlock output channels x kVectors SIMD
/// vectors of consecutive wide-row positions is accumulated in registers
/// over all input channels and taps, so each input load feeds kOutBlock
/// multiply-adds and the accumulators stay out of memory in the inner
/// loops. Vectors are the library's SIMD target (sfc/kernels/simd.hpp,
/// `Native` by default) used for separate multiplies and adds, so the result
/// is that of scalar float code on every target. The weights are repacked
/// once so that the kOutBlock weights of a tap are adjacent. Threads split
/// the (image, output-channel block) items.
template <class Target = sfc::simd::Native>
class DirectFloatBackend final : public ConvBackend {
 public:
  static constexpr std::size_t kOutBlock = 4;  ///< output channels per register block
  static constexpr std::size_t kVectors = 2;   ///< SIMD vectors of positions per register block
  static constexpr std::size_t kLanes = static_cast<std::size_t>(Target::f32_lanes);
  static constexpr std::size_t kChunk = kVectors * kLanes;  ///< wide-row positions per block
  using V = typename Target::f32;

  /// `threads`: 0 = OpenMP's default, n = at most n.
  explicit DirectFloatBackend(const ConvLayer& layer, int threads = 0)
      : layer_(layer), threads_(detail::resolve_threads(threads)) {
    detail::check_layer(layer, "DirectFloatBackend");
    // packed_[block][i][tap][q] = weight[block * kOutBlock + q][i][tap], zero past Cout.
    const std::size_t Cin = static_cast<std::size_t>(layer.in_channels);
    const std::size_t Cout = static_cast<std::size_t>(layer.out_channels);
    const std::size_t taps =
        static_cast<std::size_t>(layer.kernel) * static_cast<std::size_t>(layer.kernel);
    const std::size_t blocks = (Cout + kOutBlock - 1) / kOutBlock;
    packed_.assign(blocks * Cin * taps * kOutBlock, 0.0f);
    bias_.assign(blocks * kOutBlock, 0.0f);
    for (std::size_t o = 0; o < Cout; ++o) {
      bias_[o] = layer.bias[o];
      for (std::size_t i = 0; i < Cin; ++i)
        for (std::size_t t = 0; t < taps; ++t)
          packed_[(((o / kOutBlock) * Cin + i) * taps + t) * kOutBlock + o % kOutBlock] =
              layer.weight[(o * Cin + i) * taps + t];
    }
  }

  std::string name() const override { return "direct"; }

  void run(std::span<const float> input, std::span<float> output, int batch) override {
    detail::check_run(layer_, "DirectFloatBackend", input, output, batch);
    const std::size_t Cin = static_cast<std::size_t>(layer_.in_channels);
    const std::size_t Cout = static_cast<std::size_t>(layer_.out_channels);
    const std::size_t H = static_cast<std::size_t>(layer_.height);
    const std::size_t W = static_cast<std::size_t>(layer_.width);
    const std::size_t K = static_cast<std::size_t>(layer_.kernel);
    const std::size_t P = static_cast<std::size_t>(layer_.pad);
    const std::size_t N = static_cast<std::size_t>(batch);
    const std::size_t Wp = W + 2 * P;
    // Wide rows, rounded up to whole chunks; a chunk at j reads padded
    // values up to j + kChunk - 1 + (K - 1) * (Wp + 1).
    const std::size_t wide = (H * Wp + kChunk - 1) / kChunk * kChunk;
    const std::size_t plane = wide + (K - 1) * (Wp + 1);
    const std::size_t taps = K * K;
    const std::size_t blocks = (Cout + kOutBlock - 1) / kOutBlock;

    padded_.assign(N * Cin * plane, 0.0f);
    for (std::size_t p = 0; p < N * Cin; ++p)
      for (std::size_t y = 0; y < H; ++y)
        std::copy_n(input.data() + (p * H + y) * W, W,
                    padded_.data() + p * plane + (y + P) * Wp + P);

    const std::int64_t items = static_cast<std::int64_t>(N * blocks);
    const int threads = static_cast<int>(std::min<std::int64_t>(threads_, items));
    acc_.resize(static_cast<std::size_t>(threads) * kOutBlock * wide);
    const float* padded = padded_.data();
    const float* packed = packed_.data();
    const float* bias = bias_.data();
    float* out = output.data();
    const bool relu = layer_.relu;

    SFC_OMP(omp parallel for num_threads(threads) schedule(static))
    for (std::int64_t item = 0; item < items; ++item) {
      const std::size_t n = static_cast<std::size_t>(item) / blocks;
      const std::size_t block = static_cast<std::size_t>(item) % blocks;
      float* acc =
          acc_.data() + static_cast<std::size_t>(detail::thread_index()) * kOutBlock * wide;
      const float* in = padded + n * Cin * plane;
      const float* wb = packed + block * Cin * taps * kOutBlock;
      for (std::size_t j0 = 0; j0 < wide; j0 += kChunk) {
        V a[kOutBlock][kVectors];
        for (std::size_t q = 0; q < kOutBlock; ++q)
          for (std::size_t v = 0; v < kVectors; ++v)
            a[q][v] = Target::broadcast(bias[block * kOutBlock + q]);
        for (std::size_t i = 0; i < Cin; ++i) {
          const float* src = in + i * plane + j0;
          const float* w = wb + i * taps * kOutBlock;
          for (std::size_t ky = 0; ky < K; ++ky)
            for (std::size_t kx = 0; kx < K; ++kx) {
              const float* s = src + ky * Wp + kx;
              const float* wt = w + (ky * K + kx) * kOutBlock;
              V x[kVectors];
              for (std::size_t v = 0; v < kVectors; ++v) x[v] = Target::load(s + v * kLanes);
              for (std::size_t q = 0; q < kOutBlock; ++q) {
                const V wq = Target::broadcast(wt[q]);
                for (std::size_t v = 0; v < kVectors; ++v)
                  a[q][v] = Target::add(a[q][v], Target::mul(wq, x[v]));
              }
            }
        }
        for (std::size_t q = 0; q < kOutBlock; ++q)
          for (std::size_t v = 0; v < kVectors; ++v)
            Target::store(acc + q * wide + j0 + v * kLanes, a[q][v]);
      }
      const std::size_t outputs = std::min(kOutBlock, Cout - block * kOutBlock);
      for (std::size_t q = 0; q < outputs; ++q) {
        float* dst = out + (n * Cout + block * kOutBlock + q) * H * W;
        for (std::size_t y = 0; y < H; ++y)
          for (std::size_t x = 0; x < W; ++x) {
            const float v = acc[q * wide + y * Wp + x];
            dst[y * W + x] = relu ? std::max(v, 0.0f) : v;
          }
      }
    }
  }

 private:
  ConvLayer layer_;
  int threads_ = 1;
  std::vector<float> packed_;  ///< weights, [Cout / kOutBlock][Cin][tap][kOutBlock]
  std::vector<float> bias_;    ///< zero-padded to whole blocks
  std::vector<float> padded_;  ///< batch x Cin zero-padded planes
  std::vector<float> acc_;     ///< kOutBlock wide planes per thread
};

/// sfc::Conv2d<float, Alg> on one layer. The operator's shape includes the
/// batch, so one operator is planned per batch size seen (the most recent
/// few are kept; a forward pass over a data set sees two: the batch and the
/// remainder). Planning transforms and packs the weights.
template <class Alg>
class SfcFloatBackend final : public ConvBackend {
 public:
  using Operator = sfc::Conv2d<float, Alg>;

  /// Plans batch 1 at once, so that a layer the operator rejects fails here.
  explicit SfcFloatBackend(const ConvLayer& layer, int threads = 0)
      : layer_(layer), threads_(detail::resolve_threads(threads)) {
    detail::check_layer(layer, "SfcFloatBackend");
    plan(1);
  }

  std::string name() const override { return Alg::name(); }

  void run(std::span<const float> input, std::span<float> output, int batch) override {
    detail::check_run(layer_, "SfcFloatBackend", input, output, batch);
    plan(batch).run(input, output, sfc::RunOptions{.threads = threads_});
  }

 private:
  static constexpr std::size_t kMaxPlans = 4;

  const Operator& plan(int batch) {
    for (const auto& [b, op] : plans_)
      if (b == batch) return *op;
    if (plans_.size() == kMaxPlans) plans_.erase(plans_.begin());
    const sfc::Conv2dShape shape = layer_.shape(batch);
    plans_.emplace_back(batch, std::make_unique<Operator>(shape, layer_.weight, layer_.bias,
                                                          sfc::ConvOptions{.relu = layer_.relu}));
    return *plans_.back().second;
  }

  ConvLayer layer_;
  int threads_ = 1;
  std::vector<std::pair<int, std::unique_ptr<Operator>>> plans_;
};

/// The 3x3 algorithms sfc_float_backend() offers.
enum class Float3x3 { sfc6_7_3, sfc6_6_3, sfc4_4_3, wino2_3, wino4_3 };

inline constexpr std::array<Float3x3, 5> kFloat3x3Algorithms = {
    Float3x3::sfc6_7_3, Float3x3::sfc6_6_3, Float3x3::sfc4_4_3, Float3x3::wino2_3,
    Float3x3::wino4_3};

/// Calls f(std::type_identity<Alg>{}) with the algorithm type of `alg`.
template <class F>
decltype(auto) visit_float3x3(Float3x3 alg, F&& f) {
  switch (alg) {
    case Float3x3::sfc6_6_3:
      return f(std::type_identity<sfc::SFC<6, 6, 3>>{});
    case Float3x3::sfc4_4_3:
      return f(std::type_identity<sfc::SFC<4, 4, 3>>{});
    case Float3x3::wino2_3:
      return f(std::type_identity<sfc::Winograd<2, 3>>{});
    case Float3x3::wino4_3:
      return f(std::type_identity<sfc::Winograd<4, 3>>{});
    case Float3x3::sfc6_7_3:
      break;
  }
  return f(std::type_identity<sfc::SFC<6, 7, 3>>{});
}

/// The algorithm's name ("sfc6_7_3", "wino4_3": Alg::name()).
inline std::string to_string(Float3x3 alg) {
  return visit_float3x3(alg, [](auto tag) { return decltype(tag)::type::name(); });
}

/// The 3x3 algorithm called `name`, if any.
inline std::optional<Float3x3> parse_float3x3(std::string_view name) {
  for (const Float3x3 a : kFloat3x3Algorithms)
    if (to_string(a) == name) return a;
  return std::nullopt;
}

/// Direct float convolution for every layer (DirectFloatBackend).
inline ConvBackendFactory direct_float_backend(int threads = 0) {
  return [threads](const ConvLayer& layer) -> std::unique_ptr<ConvBackend> {
    return std::make_unique<DirectFloatBackend<>>(layer, threads);
  };
}

/// sfc::Conv2d<float, Alg> per layer: 3x3 -> `alg3x3`, 5x5 -> SFC<6,6,5>,
/// 7x7 -> SFC<6,4,7>, other kernel sizes -> DirectFloatBackend.
inline ConvBackendFactory sfc_float_backend(Float3x3 alg3x3 = Float3x3::sfc6_7_3, int threads = 0) {
  return [alg3x3, threads](const ConvLayer& layer) -> std::unique_ptr<ConvBackend> {
    const auto make = [&](auto tag) -> std::unique_ptr<ConvBackend> {
      return std::make_unique<SfcFloatBackend<typename decltype(tag)::type>>(layer, threads);
    };
    switch (layer.kernel) {
      case 3:
        return visit_float3x3(alg3x3, make);
      case 5:
        return make(std::type_identity<sfc::SFC<6, 6, 5>>{});
      case 7:
        return make(std::type_identity<sfc::SFC<6, 4, 7>>{});
      default:
        return std::make_unique<DirectFloatBackend<>>(layer, threads);
    }
  };
}

}  // namespace sfc::examples
