#pragma once
// A straightforward tile-by-tile evaluator for any 2D algorithm type.
//
// Runs a 2D algorithm (a Plan2D, or an Algorithm2D type such as
// SFC<6, 7, 3>::symbolic_2d) on a whole NCHW tensor through its factored stages, one M x M output tile at a
// time, with zero padding and partial tiles at the right and bottom borders:
//
//   Z = Dx X Dx^T,  d_p = form_p . Z[block]           (per input channel)
//   V = Dw W Dw^T,  w_p = form_p . V[block]           (per output/input channel)
//   m_p = sum_i d_p[i] w_p[o, i]
//   P[block] += recon_p m_p,  Y = Ox P Ox^T            (per output channel)
//
// Two arithmetics:
// - conv2d_tiled: double precision, constants rounded once from the exact ones;
// - conv2d_tiled_exact: exact integer arithmetic for int8 data and weights.
//   Every stage matrix is scaled to integers by its common denominator, all
//   intermediate values are checked 64-bit integers, and the result is
//   divided once by the known total scale; a non-zero remainder (impossible
//   for a correct algorithm) throws std::logic_error. This is exact rational
//   arithmetic, valid for Winograd's fractional transforms as well.
//
// This is a reference for testing fast kernels, not a fast kernel itself.

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sfc/algebra/rational.hpp"
#include "sfc/core/buffers.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/transforms/form2d.hpp"

namespace sfc::reference {

namespace detail {

/// The stages of a plan as flat tables of scalar S. For integer S the tables
/// are scaled by their common denominators and `scale` is the total divisor.
template <class S>
struct TileStages {
  const Plan2D& plan;
  int K, L, M, R, T;
  std::vector<S> dx, dw, ox;  // K x L, K x R, M x K
  std::vector<S> recon;       // T x kMaxPairEntries
  std::int64_t scale = 1;     // integer S only: Y_true = Y / scale

  explicit TileStages(const Plan2D& p)
      : plan(p), K(p.K), L(p.L), M(p.M), R(p.R), T(p.T),
        dx(static_cast<std::size_t>(K * L)), dw(static_cast<std::size_t>(K * R)),
        ox(static_cast<std::size_t>(M * K)), recon(static_cast<std::size_t>(T * kMaxPairEntries)) {
    std::int64_t dX = 1, dW = 1, dO = 1, dR = 1;
    if constexpr (std::is_integral_v<S>) {
      dX = common_denominator(p.Dx);
      dW = common_denominator(p.Dw);
      dO = common_denominator(p.Ox);
      dR = recon_denominator(p);
      using sfc::detail::checked_mul_i64;
      scale = checked_mul_i64(
          checked_mul_i64(checked_mul_i64(dX, dX), checked_mul_i64(dW, dW)),
          checked_mul_i64(checked_mul_i64(dO, dO), dR));
    }
    fill(dx, p.Dx, dX);
    fill(dw, p.Dw, dW);
    fill(ox, p.Ox, dO);
    for (int q = 0; q < T; ++q)
      for (int e = 0; e < kMaxPairEntries; ++e)
        recon[static_cast<std::size_t>(q * kMaxPairEntries + e)] =
            convert(p.products[static_cast<std::size_t>(q)].recon[static_cast<std::size_t>(e)], dR);
  }

  static S convert(const Rational& r, std::int64_t scale_by) {
    if constexpr (std::is_integral_v<S>) {
      return sfc::detail::checked_mul_i64(r.num(), scale_by / r.den());
    } else {
      return static_cast<S>(r.to_double());
    }
  }
  static void fill(std::vector<S>& out, const DenseMatrix& m, std::int64_t scale_by) {
    for (int r = 0; r < m.rows; ++r)
      for (int c = 0; c < m.cols; ++c)
        out[static_cast<std::size_t>(r * m.cols + c)] = convert(m(r, c), scale_by);
  }

  static S mul(S a, S b) {
    if constexpr (std::is_integral_v<S>) return sfc::detail::checked_mul_i64(a, b);
    else return a * b;
  }
  static S add(S a, S b) {
    if constexpr (std::is_integral_v<S>) return sfc::detail::checked_add_i64(a, b);
    else return a + b;
  }

  /// Z = D X D^T for a W x W tile, then the T product inputs.
  void transform(const std::vector<S>& d, int W, const S* x, S* out) const {
    std::vector<S> tmp(static_cast<std::size_t>(K * W), S{});
    for (int k = 0; k < K; ++k)
      for (int a = 0; a < W; ++a) {
        const S c = d[static_cast<std::size_t>(k * W + a)];
        if (c == S{}) continue;
        for (int b = 0; b < W; ++b)
          tmp[static_cast<std::size_t>(k * W + b)] =
              add(tmp[static_cast<std::size_t>(k * W + b)], mul(c, x[a * W + b]));
      }
    std::vector<S> z(static_cast<std::size_t>(K * K), S{});
    for (int k = 0; k < K; ++k)
      for (int l = 0; l < K; ++l)
        for (int b = 0; b < W; ++b) {
          const S c = d[static_cast<std::size_t>(l * W + b)];
          if (c == S{}) continue;
          z[static_cast<std::size_t>(k * K + l)] =
              add(z[static_cast<std::size_t>(k * K + l)], mul(tmp[static_cast<std::size_t>(k * W + b)], c));
        }
    for (const PairBlock& pb : plan.pairs)
      for (int p = pb.first_product; p < pb.first_product + pb.products; ++p) {
        S v{};
        for (int e = 0; e < pb.rows * pb.cols; ++e) {
          const int f = plan.products[static_cast<std::size_t>(p)].form[static_cast<std::size_t>(e)];
          if (f == 0) continue;
          const S zv = z[static_cast<std::size_t>((pb.row_offset + e / pb.cols) * K + pb.col_offset +
                                                  e % pb.cols)];
          v = add(v, mul(static_cast<S>(f), zv));
        }
        out[p] = v;
      }
  }

  /// P = sum_p recon_p m_p (blockwise), Y = Ox P Ox^T (M x M).
  void output(const S* m, S* y) const {
    std::vector<S> P(static_cast<std::size_t>(K * K), S{});
    for (const PairBlock& pb : plan.pairs)
      for (int p = pb.first_product; p < pb.first_product + pb.products; ++p)
        for (int e = 0; e < pb.rows * pb.cols; ++e) {
          const S r = recon[static_cast<std::size_t>(p * kMaxPairEntries + e)];
          if (r == S{}) continue;
          S& dst = P[static_cast<std::size_t>((pb.row_offset + e / pb.cols) * K + pb.col_offset +
                                              e % pb.cols)];
          dst = add(dst, mul(r, m[p]));
        }
    std::vector<S> tmp(static_cast<std::size_t>(M * K), S{});
    for (int i = 0; i < M; ++i)
      for (int k = 0; k < K; ++k) {
        const S c = ox[static_cast<std::size_t>(i * K + k)];
        if (c == S{}) continue;
        for (int l = 0; l < K; ++l)
          tmp[static_cast<std::size_t>(i * K + l)] =
              add(tmp[static_cast<std::size_t>(i * K + l)], mul(c, P[static_cast<std::size_t>(k * K + l)]));
      }
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < M; ++j) {
        S v{};
        for (int l = 0; l < K; ++l)
          v = add(v, mul(tmp[static_cast<std::size_t>(i * K + l)], ox[static_cast<std::size_t>(j * K + l)]));
        y[i * M + j] = v;
      }
  }
};

template <class In, class Wt, class Bias, class Out>
void check_call(const Plan2D& plan, const Conv2dShape& shape, std::span<In> input,
                std::span<Wt> weights, std::span<Bias> bias, std::span<Out> output) {
  constexpr std::string_view who = "sfc::reference::conv2d_tiled";
  throw_if_error(shape.validate(), who);
  if (shape.kernel_h != plan.R || shape.kernel_w != plan.R)
    throw Error(std::string(who) + ": kernel " + std::to_string(shape.kernel_h) + "x" +
                std::to_string(shape.kernel_w) + " does not match the algorithm's " +
                std::to_string(plan.R) + "x" + std::to_string(plan.R));
  check_conv_buffers(who, shape, input, weights, bias, output);
}

/// The shared loop nest: S is the arithmetic, In/Out the tensor element types.
template <class S, class In, class Wt, class Bias, class Out, class Finish>
void conv2d_tiled(const Plan2D& plan, const Conv2dShape& sh, std::span<const In> input,
                  std::span<const Wt> weights, std::span<const Bias> bias, std::span<Out> output,
                  Finish finish) {
  check_call(plan, sh, input, weights, bias, output);
  const int M = plan.M, L = plan.L, R = plan.R, T = plan.T;
  const TileStages<S> st(plan);
  const std::int64_t Ci = sh.in_channels, Co = sh.out_channels;
  const std::int64_t H = sh.height, W = sh.width;
  const std::int64_t Ho = sh.output_height(), Wo = sh.output_width();

  // Weights transformed once: wt[(o * Ci + i) * T + p].
  std::vector<S> wt(static_cast<std::size_t>(Co * Ci * T));
  std::vector<S> tap(static_cast<std::size_t>(R * R));
  for (std::int64_t o = 0; o < Co; ++o)
    for (std::int64_t i = 0; i < Ci; ++i) {
      for (int k = 0; k < R * R; ++k)
        tap[static_cast<std::size_t>(k)] = static_cast<S>(weights[static_cast<std::size_t>((o * Ci + i) * R * R + k)]);
      st.transform(st.dw, R, tap.data(), &wt[static_cast<std::size_t>((o * Ci + i) * T)]);
    }

  std::vector<S> tile(static_cast<std::size_t>(L * L));
  std::vector<S> dt(static_cast<std::size_t>(Ci * T));
  std::vector<S> m(static_cast<std::size_t>(T));
  std::vector<S> y(static_cast<std::size_t>(M * M));
  for (std::int64_t n = 0; n < sh.batch; ++n)
    for (std::int64_t ty = 0; ty < Ho; ty += M)
      for (std::int64_t tx = 0; tx < Wo; tx += M) {
        for (std::int64_t i = 0; i < Ci; ++i) {
          for (int a = 0; a < L; ++a)
            for (int b = 0; b < L; ++b) {
              const std::int64_t yy = ty + a - sh.pad_top, xx = tx + b - sh.pad_left;
              const bool inside = yy >= 0 && yy < H && xx >= 0 && xx < W;
              tile[static_cast<std::size_t>(a * L + b)] =
                  inside ? static_cast<S>(input[static_cast<std::size_t>(((n * Ci + i) * H + yy) * W + xx)]) : S{};
            }
          st.transform(st.dx, L, tile.data(), &dt[static_cast<std::size_t>(i * T)]);
        }
        for (std::int64_t o = 0; o < Co; ++o) {
          for (int p = 0; p < T; ++p) {
            S acc{};
            for (std::int64_t i = 0; i < Ci; ++i)
              acc = st.add(acc, st.mul(dt[static_cast<std::size_t>(i * T + p)],
                                       wt[static_cast<std::size_t>((o * Ci + i) * T + p)]));
            m[static_cast<std::size_t>(p)] = acc;
          }
          st.output(m.data(), y.data());
          for (int a = 0; a < M && ty + a < Ho; ++a)
            for (int b = 0; b < M && tx + b < Wo; ++b) {
              const Bias bv = bias.empty() ? Bias{} : bias[static_cast<std::size_t>(o)];
              output[static_cast<std::size_t>(((n * Co + o) * Ho + ty + a) * Wo + tx + b)] =
                  finish(y[static_cast<std::size_t>(a * M + b)], st.scale, bv);
            }
        }
      }
}

}  // namespace detail

/// Float convolution through a plan's stages in double precision (NCHW, OIHW).
inline void conv2d_tiled(const Plan2D& plan, const Conv2dShape& shape,
                         std::span<const float> input, std::span<const float> weights,
                         std::span<const float> bias, std::span<float> output) {
  detail::conv2d_tiled<double>(plan, shape, input, weights, bias, output,
                               [](double v, std::int64_t, float b) {
                                 return static_cast<float>(v + static_cast<double>(b));
                               });
}

/// Exact int8 convolution through a plan's stages: int32 output bit-identical
/// to direct convolution for a correct algorithm (NCHW, OIHW).
inline void conv2d_tiled_exact(const Plan2D& plan, const Conv2dShape& shape,
                               std::span<const std::int8_t> input,
                               std::span<const std::int8_t> weights,
                               std::span<const std::int32_t> bias, std::span<std::int32_t> output) {
  detail::conv2d_tiled<std::int64_t>(
      plan, shape, input, weights, bias, output,
      [](std::int64_t v, std::int64_t scale, std::int32_t b) {
        if (v % scale != 0)
          throw std::logic_error("sfc::reference::conv2d_tiled_exact: inexact final division");
        const std::int64_t r = v / scale + b;
        if (r < INT32_MIN || r > INT32_MAX)
          throw Error("sfc::reference::conv2d_tiled_exact: result does not fit int32");
        return static_cast<std::int32_t>(r);
      });
}

/// The typed forms: A2 is an Algorithm2D (e.g. SFC<6, 7, 3>::symbolic_2d).
template <class A2>
void conv2d_tiled(const Conv2dShape& shape, std::span<const float> input,
                  std::span<const float> weights, std::span<const float> bias,
                  std::span<float> output) {
  static const Plan2D plan = A2::plan();
  conv2d_tiled(plan, shape, input, weights, bias, output);
}

template <class A2>
void conv2d_tiled_exact(const Conv2dShape& shape, std::span<const std::int8_t> input,
                        std::span<const std::int8_t> weights, std::span<const std::int32_t> bias,
                        std::span<std::int32_t> output) {
  static const Plan2D plan = A2::plan();
  conv2d_tiled_exact(plan, shape, input, weights, bias, output);
}

}  // namespace sfc::reference
