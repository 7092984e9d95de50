#pragma once
// The tile evaluator's stages in any scalar arithmetic S (float, double,
// sfc::Half, ...), one tile at a time: for measuring how an algorithm's
// factored stages behave in a given precision.
//
//   TileEvaluator<S> ev(plan_of<SFC<6, 7, 3>::symbolic_2d>());
//   ev.transform_data(tile, d);       // L x L tile -> T values, Z = Dx X Dx^T, d_p = form_p . Z
//   ev.transform_weights(kernel, w);  // R x R kernel -> T values
//   ev.multiply(d, w, channels, m);   // m_p = sum_i d[i][p] w[i][p], in channel order
//   ev.output(m, y);                  // T values -> M x M tile, P = recon m, Y = Ox P Ox^T
//
// Every stage runs exactly as sfc::reference::conv2d_tiled runs it (the same
// loops over the same stage tables, in the same order), with each addition
// and multiplication done in S, so a rounding type such as sfc::Half rounds
// after every operation. The stage coefficients are rounded once to S from
// their exact rational values (through double). Mixed precision is a
// composition: e.g. transform in float, store as half, multiply in float.
//
// S needs a value-initialised zero, explicit construction from double and
// int, +, * and ==.

#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "sfc/core/error.hpp"
#include "sfc/reference/tile_evaluator.hpp"
#include "sfc/transforms/form2d.hpp"

namespace sfc::reference {

/// The run-time plan of a 2D algorithm type (an Algorithm2D such as
/// SFC<6, 7, 3>::symbolic_2d), copied from its constexpr tables: the same
/// plan as A2::plan(), without compiling the generator for run time.
template <class A2>
Plan2D plan_of() {
  using Alg = typename A2::algorithm;
  Plan2D p;
  p.form = A2::form;
  p.M = A2::M;
  p.R = A2::R;
  p.L = A2::L;
  p.K = A2::K;
  p.T = A2::T;
  p.Dx = DenseMatrix::from(Alg::Dx);
  p.Dw = DenseMatrix::from(Alg::Dw);
  p.Ox = DenseMatrix::from(Alg::Ox);
  p.pairs.assign(A2::pairs.begin(), A2::pairs.end());
  p.products.assign(A2::products.begin(), A2::products.end());
  return p;
}

/// A 2D algorithm's stages in the arithmetic of S (not integral: the exact
/// integer arithmetic is conv2d_tiled_exact's).
template <class S>
  requires(!std::is_integral_v<S>)
class TileEvaluator {
 public:
  explicit TileEvaluator(Plan2D plan) : plan_(std::move(plan)), stages_(plan_) {}
  // The stages refer to the plan held here: neither copied nor moved.
  TileEvaluator(const TileEvaluator&) = delete;
  TileEvaluator& operator=(const TileEvaluator&) = delete;

  const Plan2D& plan() const { return plan_; }
  int M() const { return plan_.M; }  ///< output tile
  int L() const { return plan_.L; }  ///< input tile
  int R() const { return plan_.R; }  ///< kernel
  int T() const { return plan_.T; }  ///< multiplications per tile (and channel pair)

  /// The T product inputs of one L x L data tile (row-major).
  void transform_data(std::span<const S> tile, std::span<S> out) const {
    check(tile.size(), L() * L(), "transform_data: tile");
    check(out.size(), T(), "transform_data: output");
    stages_.transform(stages_.dx, L(), tile.data(), out.data());
  }

  /// The T product inputs of one R x R kernel (row-major).
  void transform_weights(std::span<const S> kernel, std::span<S> out) const {
    check(kernel.size(), R() * R(), "transform_weights: kernel");
    check(out.size(), T(), "transform_weights: output");
    stages_.transform(stages_.dw, R(), kernel.data(), out.data());
  }

  /// m_p = sum over channels i = 0, 1, ... of data[i T + p] * weights[i T + p],
  /// accumulated in channel order from zero.
  void multiply(std::span<const S> data, std::span<const S> weights, int channels,
                std::span<S> m) const {
    const int t = T();
    check(data.size(), channels * t, "multiply: data");
    check(weights.size(), channels * t, "multiply: weights");
    check(m.size(), t, "multiply: output");
    for (int p = 0; p < t; ++p) {
      S acc{};
      for (int i = 0; i < channels; ++i)
        acc = stages_.add(acc, stages_.mul(data[static_cast<std::size_t>(i * t + p)],
                                           weights[static_cast<std::size_t>(i * t + p)]));
      m[static_cast<std::size_t>(p)] = acc;
    }
  }

  /// The M x M output tile (row-major) of T summed products.
  void output(std::span<const S> m, std::span<S> tile) const {
    check(m.size(), T(), "output: products");
    check(tile.size(), M() * M(), "output: tile");
    stages_.output(m.data(), tile.data());
  }

 private:
  static void check(std::size_t have, int need, const char* what) {
    if (have != static_cast<std::size_t>(need))
      throw Error(std::string("sfc::reference::TileEvaluator::") + what + " has " +
                  std::to_string(have) + " elements, expected " + std::to_string(need));
  }

  Plan2D plan_;
  detail::TileStages<S> stages_;
};

}  // namespace sfc::reference
