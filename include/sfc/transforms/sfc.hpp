#pragma once
// sfc::SFC<N, M, R>: the Symbolic Fourier Convolution algorithm SFC-N(M, R).
//
// Linear correlation y[i] = sum_{k<R} x[i+k] w[k], i < M, from an N-point
// cyclic correlation over cyclotomic residues (cyclic.hpp) of the window
// x[o .. o+N), plus one correction product (x[a] - x[b]) w[k] for every tap
// whose input falls outside the window (DESIGN.md 1.3). Kernels longer than N
// fold modulo N. Everything below is generated at compile time from the three
// template parameters and proven exact by static_assert.

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sfc/algebra/matrix.hpp"
#include "sfc/algebra/rational.hpp"
#include "sfc/transforms/bilinear.hpp"
#include "sfc/transforms/cyclic.hpp"
#include "sfc/transforms/form2d.hpp"
#include "sfc/transforms/proof.hpp"

namespace sfc {

/// Output tile sizes: at least one output per tile.
template <int M>
concept PositiveTileSize = M >= 1;
/// Kernel sizes: at least one tap.
template <int R>
concept PositiveKernelSize = R >= 1;

/// One correction term: output[output] += (x[plus] - x[minus]) * w[tap];
/// minus == -1 when the wrapped position lies outside the tile (reads zero).
struct Correction {
  int output = 0;
  int tap = 0;
  int plus = 0;
  int minus = -1;
  friend constexpr bool operator==(const Correction&, const Correction&) = default;
};

/// SFC-N(M, R) in factored 1D stages, sized at run time. This is the one
/// generator: sfc::SFC<N, M, R> copies its constexpr members from it, and
/// tests and tools can call it with run-time parameters.
struct SfcPlan1D : Stages1D {
  int N = 0;
  int window_offset = 0;
  std::vector<Correction> corrections;
};

namespace detail {

constexpr int positive_mod(int a, int n) { return ((a % n) + n) % n; }

/// Corrections needed with the window at offset o.
constexpr int correction_count(int N, int M, int R, int o) {
  int n = 0;
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < R; ++k) n += (i + k < o || i + k >= o + N) ? 1 : 0;
  return n;
}

/// The window offset: fewest corrections; ties nearest the centre (L - N) / 2,
/// then the smaller offset.
constexpr int choose_window_offset(int N, int M, int R) {
  const int L = M + R - 1;
  const int lo = L - N < 0 ? L - N : 0;
  const int hi = L - N < 0 ? 0 : L - N;
  const auto dist = [&](int o) { return 2 * o - (L - N) < 0 ? (L - N) - 2 * o : 2 * o - (L - N); };
  int best = lo;
  for (int o = lo + 1; o <= hi; ++o) {
    const int co = correction_count(N, M, R, o);
    const int cb = correction_count(N, M, R, best);
    if (co < cb || (co == cb && dist(o) < dist(best))) best = o;
  }
  return best;
}

}  // namespace detail

/// Largest tile M and kernel R make_sfc_1d accepts (far beyond any useful
/// algorithm; the bound keeps every index computation inside int).
inline constexpr int kMaxExtent1D = 1024;

/// Generates SFC-N(M, R); throws std::domain_error for unsupported parameters.
constexpr SfcPlan1D make_sfc_1d(int N, int M, int R) {
  if (!detail::is_symbolic_fourier_length(N))
    throw std::domain_error("sfc::make_sfc_1d: N must be one of 2, 3, 4, 6, 8, 12");
  if (M < 1 || R < 1 || M > kMaxExtent1D || R > kMaxExtent1D)
    throw std::domain_error("sfc::make_sfc_1d: M and R must be in [1, 1024]");
  SfcPlan1D p;
  p.N = N;
  p.M = M;
  p.R = R;
  p.L = M + R - 1;
  p.window_offset = detail::choose_window_offset(N, M, R);
  const int o = p.window_offset;
  // Corrections, ordered by output, then tap.
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < R; ++k) {
      const int a = i + k;
      if (a >= o && a < o + N) continue;
      const int b = o + detail::positive_mod(a - o, N);
      p.corrections.push_back({i, k, a, (b >= 0 && b < p.L) ? b : -1});
    }
  const int nc = static_cast<int>(p.corrections.size());
  p.K = N + nc;
  // Groups: one per cyclotomic factor, then one per correction.
  p.groups = detail::cyclic_blocks(N);
  const int cyclic_products = p.groups.back().first_product + p.groups.back().products;
  for (int c = 0; c < nc; ++c) p.groups.push_back(MultBlock::single(N + c, cyclic_products + c));
  p.T = cyclic_products + nc;
  const DenseMatrix res = detail::cyclic_residues(N);
  const DenseMatrix res_inv = inverse(res);
  // Dx (K x L): residues of the window x[o .. o+N) (zeros outside the tile).
  p.Dx = DenseMatrix(p.K, p.L);
  for (int r = 0; r < N; ++r)
    for (int t = 0; t < N; ++t)
      if (o + t >= 0 && o + t < p.L) p.Dx(r, o + t) = res(r, t);
  // Dw (K x R): tap k sits at z^((-k) mod N).
  p.Dw = DenseMatrix(p.K, R);
  for (int r = 0; r < N; ++r)
    for (int k = 0; k < R; ++k) p.Dw(r, k) = res(r, detail::positive_mod(-k, N));
  // Ox (M x K): inverse CRT for cyclic output (i - o) mod N, plus corrections.
  p.Ox = DenseMatrix(M, p.K);
  for (int i = 0; i < M; ++i)
    for (int r = 0; r < N; ++r) p.Ox(i, r) = res_inv(detail::positive_mod(i - o, N), r);
  for (int c = 0; c < nc; ++c) {
    const Correction& e = p.corrections[static_cast<std::size_t>(c)];
    p.Dx(N + c, e.plus) = 1;
    if (e.minus >= 0) p.Dx(N + c, e.minus) = -1;
    p.Dw(N + c, e.tap) = 1;
    p.Ox(e.output, N + c) = 1;
  }
  return p;
}

/// 1D transforms from factored stages: BT = F Dx, G = F Dw, AT = Ox C with
/// F = blockdiag(forms), C = blockdiag(recon).
constexpr DenseMatrix expand_forms(const Stages1D& s, const DenseMatrix& stage) {
  DenseMatrix m(s.T, stage.cols);
  for (const MultBlock& b : s.groups)
    for (int p = 0; p < b.products; ++p)
      for (int c = 0; c < b.size; ++c) {
        const int f = b.forms[static_cast<std::size_t>(p)][static_cast<std::size_t>(c)];
        if (f == 0) continue;
        for (int w = 0; w < stage.cols; ++w)
          m(b.first_product + p, w) += Rational(f) * stage(b.offset + c, w);
      }
  return m;
}

constexpr DenseMatrix expand_recon(const Stages1D& s) {
  DenseMatrix m(s.M, s.T);
  for (const MultBlock& b : s.groups)
    for (int p = 0; p < b.products; ++p)
      for (int c = 0; c < b.size; ++c) {
        const int r = b.recon[static_cast<std::size_t>(c)][static_cast<std::size_t>(p)];
        if (r == 0) continue;
        for (int i = 0; i < s.M; ++i) m(i, b.first_product + p) += Rational(r) * s.Ox(i, b.offset + c);
      }
  return m;
}

namespace detail {

/// The 1D algorithm and its factored stages, copied from make_sfc_1d;
/// SFC<N, M, R> adds the 2D forms.
template <int N_, int M_, int R_>
struct SfcCore {
  static constexpr int N = N_;  ///< length of the symbolic Fourier transform
  static constexpr int M = M_;  ///< outputs per tile (1D)
  static constexpr int R = R_;  ///< kernel taps (1D)
  static constexpr int L = M + R - 1;  ///< inputs per tile (1D)

  /// The run-time description this type is copied from.
  static constexpr SfcPlan1D stages() { return make_sfc_1d(N, M, R); }

  /// Window start o: the cyclic part reads x[o .. o+N) (zeros outside the tile).
  static constexpr int window_offset = choose_window_offset(N, M, R);
  static constexpr int num_corrections = correction_count(N, M, R, window_offset);
  /// Residue coefficients per dimension: N cyclic residues plus one per correction.
  static constexpr int K = N + num_corrections;
  /// Multiplications of the 1D algorithm.
  static constexpr int T = CyclicCorrelation<N>::products + num_corrections;

 private:
  // Everything below is copied from one evaluation of the generator.
  struct Tables {
    std::array<Correction, num_corrections> corrections{};
    std::array<MultBlock, divisor_count(N) + num_corrections> groups{};
    Matrix<Rational, K, L> Dx;
    Matrix<Rational, K, R> Dw;
    Matrix<Rational, M, K> Ox;
    Matrix<Rational, T, L> BT;
    Matrix<Rational, T, R> G;
    Matrix<Rational, M, T> AT;
  };
  static constexpr Tables tables_ = [] {
    const SfcPlan1D p = stages();
    if (p.window_offset != window_offset || p.T != T || p.K != K)
      throw std::logic_error("sfc: generator and type disagree");
    Tables t;
    for (std::size_t i = 0; i < t.corrections.size(); ++i) t.corrections[i] = p.corrections[i];
    for (std::size_t i = 0; i < t.groups.size(); ++i) t.groups[i] = p.groups[i];
    t.Dx = to_fixed<K, L>(p.Dx);
    t.Dw = to_fixed<K, R>(p.Dw);
    t.Ox = to_fixed<M, K>(p.Ox);
    t.BT = to_fixed<T, L>(expand_forms(p, p.Dx));
    t.G = to_fixed<T, R>(expand_forms(p, p.Dw));
    t.AT = to_fixed<M, T>(expand_recon(p));
    return t;
  }();

 public:
  /// Correction terms, ordered by output, then tap.
  static constexpr std::array<Correction, num_corrections> corrections = tables_.corrections;
  /// Multiplication groups: one per cyclotomic factor, then one per correction.
  static constexpr std::array<MultBlock, divisor_count(N) + num_corrections> groups = tables_.groups;
  /// Data residue stage Dx (K x L), ternary.
  static constexpr Matrix<Rational, K, L> Dx = tables_.Dx;
  /// Weight residue stage Dw (K x R), ternary: tap k sits at z^((-k) mod N).
  static constexpr Matrix<Rational, K, R> Dw = tables_.Dw;
  /// Output stage Ox (M x K): inverse CRT plus corrections. Denominator N.
  static constexpr Matrix<Rational, M, K> Ox = tables_.Ox;
  /// Data transform BT (T x L), ternary.
  static constexpr Matrix<Rational, T, L> BT = tables_.BT;
  /// Weight transform G (T x R), ternary.
  static constexpr Matrix<Rational, T, R> G = tables_.G;
  /// Output transform AT (M x T), rational.
  static constexpr Matrix<Rational, M, T> AT = tables_.AT;

  static_assert(is_ternary(BT), "SFC: the data transform BT must be ternary");
  static_assert(is_ternary(G), "SFC: the weight transform G must be ternary");
  static_assert(correlates_exactly(BT, G, AT),
                "SFC: the 1D algorithm does not reproduce correlation exactly");

  /// Common denominator of AT (N).
  static constexpr std::int64_t AT_denominator = common_denominator(AT);
  /// Worst-case gains of the 1D transforms (max row L1 norms).
  static constexpr Rational data_growth_1d = max_row_l1(BT);
  static constexpr Rational weight_growth_1d = max_row_l1(G);

  /// Machine name, e.g. "sfc6_7_3".
  static std::string name() {
    return "sfc" + std::to_string(N) + "_" + std::to_string(M) + "_" + std::to_string(R);
  }
  /// Human name, e.g. "SFC-6(7x7, 3x3)".
  static std::string display_name() {
    const std::string m = std::to_string(M);
    const std::string r = std::to_string(R);
    return "SFC-" + std::to_string(N) + "(" + m + "x" + m + ", " + r + "x" + r + ")";
  }
};

}  // namespace detail

/// SFC-N(M, R): see the top of this file. All members are constexpr:
/// 1D transforms BT, G, AT; factored stages Dx, Dw, Ox with their groups;
/// window offset and corrections; 2D forms with multiplication counts.
template <int N_, int M_, int R_>
  requires SymbolicFourierLength<N_> && PositiveTileSize<M_> && PositiveKernelSize<R_>
struct SFC : detail::SfcCore<N_, M_, R_> {
  using core = detail::SfcCore<N_, M_, R_>;
  using nested_2d = Algorithm2D<core, Form2D::nested>;
  using symbolic_2d = Algorithm2D<core, Form2D::symbolic>;

  static_assert(pair_blocks_exact<symbolic_2d>(),
                "SFC: a block of the symbolic 2D form is not exact");

  static constexpr int mults_2d_nested = nested_2d::T;
  static constexpr int mults_2d_symbolic = symbolic_2d::T;
  static constexpr int mults_2d_direct = M_ * M_ * R_ * R_;
};

}  // namespace sfc
