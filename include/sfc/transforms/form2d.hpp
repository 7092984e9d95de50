#pragma once
// Two-dimensional forms of a 1D bilinear algorithm, in factored stages.
//
//   Z  = Dx X Dx^T            (K x K, separable residue stage; ternary for SFC)
//   V  = Dw W Dw^T
//   for every pair of groups (gi, gj), the block Z[gi, gj] (ki x kj entries)
//   is multiplied with V[gi, gj] by `products` scalar multiplications:
//       m_p = (form_p . Z_block) * (form_p . V_block)
//       P_block = sum_p recon_p m_p
//   Y  = Ox P Ox^T            (M x M, separable output stage)
//
// Form2D::nested uses the Kronecker product of the 1D group algorithms
// (T^2 multiplications). Form2D::symbolic (DESIGN.md 1.5) splits every pair
// of quadratic residue blocks over the same field Q(zeta):
//     Q(zeta)[x]/Phi_a (x) Q(zeta)[y]/Phi_b  ~=  Q(zeta) x Q(zeta),
//     p(x, y) -> ( p(alpha, beta1), p(alpha, beta2) ),
// and multiplies in each copy with 3 products instead of 9 for the pair.
// The split is chosen (roots, order, Karatsuba signs) so that every composed
// data and weight row stays ternary; a pair without such a split stays nested.

#include <array>
#include <cstdint>
#include <vector>

#include "sfc/algebra/matrix.hpp"
#include "sfc/algebra/polynomial.hpp"
#include "sfc/algebra/rational.hpp"
#include "sfc/transforms/bilinear.hpp"

namespace sfc {

enum class Form2D { nested, symbolic };

inline constexpr int kMaxPairEntries = kMaxGroupSize * kMaxGroupSize;

/// One product of a pair block: its linear form over the block's entries
/// (entry ix * cols + iy holds x^ix y^iy) and its share of the block's result.
struct PairProduct {
  std::array<int, kMaxPairEntries> form{};
  std::array<Rational, kMaxPairEntries> recon{};
};

/// A pair of 1D groups: the rows come from group `row_group` (first tile
/// dimension), the columns from group `col_group`.
struct PairBlock {
  int row_group = 0, col_group = 0;
  int row_offset = 0, col_offset = 0;  ///< first residue row in each dimension
  int rows = 1, cols = 1;              ///< group sizes
  int first_product = 0, products = 1;
  bool split = false;                  ///< symbolic split into two field copies
  std::array<int, 2> split_signs{};    ///< Karatsuba sign of each copy (split only)
};

namespace detail {

/// An element c0 + c1 s of Z[s]/(s^2 + p1 s + p0).
struct Quadratic {
  std::int64_t c0 = 0, c1 = 0;
};

constexpr Quadratic quad_mul(Quadratic a, Quadratic b, const Polynomial& phi) {
  const std::int64_t t0 = a.c0 * b.c0;
  const std::int64_t t1 = a.c0 * b.c1 + a.c1 * b.c0;
  const std::int64_t t2 = a.c1 * b.c1;
  return {t0 - phi[0] * t2, t1 - phi[1] * t2};
}

/// Roots of the quadratic `target` in Z[s]/field with coefficients in {-1, 0, 1}.
struct QuadRoots {
  int count = 0;
  std::array<Quadratic, 9> root{};
};

constexpr QuadRoots quad_roots(const Polynomial& field, const Polynomial& target) {
  QuadRoots out;
  for (std::int64_t c0 = -1; c0 <= 1; ++c0)
    for (std::int64_t c1 = -1; c1 <= 1; ++c1) {
      const Quadratic r{c0, c1};
      const Quadratic r2 = quad_mul(r, r, field);
      if (r2.c0 + target[1] * r.c0 + target[0] == 0 && r2.c1 + target[1] * r.c1 == 0)
        out.root[static_cast<std::size_t>(out.count++)] = r;
    }
  return out;
}

/// The symbolic split of one pair block: 6 products in two field copies.
struct SplitPair {
  bool split = false;
  std::array<int, 2> split_signs{};
  int products = 0;
  std::array<PairProduct, 6> prod{};
};

/// The Kronecker product of two group algorithms, written to out[0 .. pa * pb).
constexpr void nested_pair_into(const MultBlock& a, const MultBlock& b, PairProduct* out) {
  for (int pa = 0; pa < a.products; ++pa)
    for (int pb = 0; pb < b.products; ++pb) {
      PairProduct& q = *out++;
      for (int ix = 0; ix < a.size; ++ix)
        for (int iy = 0; iy < b.size; ++iy) {
          const auto e = static_cast<std::size_t>(ix * b.size + iy);
          q.form[e] = a.forms[static_cast<std::size_t>(pa)][static_cast<std::size_t>(ix)] *
                      b.forms[static_cast<std::size_t>(pb)][static_cast<std::size_t>(iy)];
          q.recon[e] = a.recon[static_cast<std::size_t>(ix)][static_cast<std::size_t>(pa)] *
                       b.recon[static_cast<std::size_t>(iy)][static_cast<std::size_t>(pb)];
        }
    }
}

/// Only quadratic x quadratic cyclotomic pairs can split (symbolic form).
constexpr bool may_split(const MultBlock& a, const MultBlock& b, Form2D form) {
  return form == Form2D::symbolic && a.size == 2 && b.size == 2 && a.factor != 0 && b.factor != 0;
}

/// True when sum_e form[e] * outer(S(ra + ix, :), S(rb + iy, :)) is ternary.
constexpr bool ternary_outer(const std::array<int, kMaxPairEntries>& form, const DenseMatrix& S,
                             int ra, int rb) {
  for (int u = 0; u < S.cols; ++u)
    for (int v = 0; v < S.cols; ++v) {
      std::int64_t acc = 0;  // the residue stages are integer (ternary)
      for (int ix = 0; ix < 2; ++ix)
        for (int iy = 0; iy < 2; ++iy) {
          const int f = form[static_cast<std::size_t>(ix * 2 + iy)];
          if (f != 0) acc += f * S(ra + ix, u).num() * S(rb + iy, v).num();
        }
      if (acc < -1 || acc > 1) return false;
    }
  return true;
}

/// The symbolic split of a quadratic x quadratic pair, if one with ternary
/// rows exists (`split` is false otherwise).
constexpr SplitPair split_pair(const MultBlock& a, const MultBlock& b, const DenseMatrix& Dx,
                               const DenseMatrix& Dw) {
  SplitPair none;
  if (a.size != 2 || b.size != 2 || a.factor == 0 || b.factor == 0) return none;
  const Polynomial field = cyclotomic(a.factor);
  const Polynomial other = cyclotomic(b.factor);
  const QuadRoots alphas = quad_roots(field, field);
  const QuadRoots betas = quad_roots(field, other);
  if (betas.count != 2) return none;  // Phi_b does not split over Q(zeta_a)
  for (int ai = 0; ai < alphas.count; ++ai)
    for (int order = 0; order < 2; ++order)
      for (int signs = 0; signs < 4; ++signs) {
        const Quadratic alpha = alphas.root[static_cast<std::size_t>(ai)];
        const Quadratic beta[2] = {betas.root[static_cast<std::size_t>(order)],
                                   betas.root[static_cast<std::size_t>(1 - order)]};
        const int sigma[2] = {(signs & 2) ? -1 : 1, (signs & 1) ? -1 : 1};
        // E maps block entries (x^ix y^iy at ix*2+iy) to (u0, u1, v0, v1).
        Matrix<Rational, 4, 4> E;
        for (int c = 0; c < 2; ++c)
          for (int ix = 0; ix < 2; ++ix)
            for (int iy = 0; iy < 2; ++iy) {
              Quadratic v{1, 0};
              if (ix) v = quad_mul(v, alpha, field);
              if (iy) v = quad_mul(v, beta[c], field);
              E(2 * c, ix * 2 + iy) = v.c0;
              E(2 * c + 1, ix * 2 + iy) = v.c1;
            }
        SplitPair out;
        out.split = true;
        out.split_signs = {sigma[0], sigma[1]};
        out.products = 6;
        bool ternary = true;
        for (int c = 0; c < 2 && ternary; ++c)
          for (int p = 0; p < 3 && ternary; ++p) {
            auto& form = out.prod[static_cast<std::size_t>(3 * c + p)].form;
            for (int e = 0; e < 4; ++e) {
              const std::int64_t u0 = E(2 * c, e).num();
              const std::int64_t u1 = E(2 * c + 1, e).num();
              form[static_cast<std::size_t>(e)] =
                  static_cast<int>(p == 0 ? u0 : p == 1 ? u1 : u0 + sigma[c] * u1);
            }
            ternary = ternary_outer(form, Dx, a.offset, b.offset) &&
                      ternary_outer(form, Dw, a.offset, b.offset);
          }
        if (!ternary) continue;
        // Each copy: Karatsuba product reduced modulo the field polynomial.
        Matrix<Rational, 4, 6> uv;
        for (int c = 0; c < 2; ++c) {
          const PolyMul pm = karatsuba2(sigma[c]);
          for (int t = 0; t < 2; ++t)
            for (int m = 0; m < 3; ++m) {
              std::int64_t v = 0;
              for (int e = 0; e < 3; ++e)
                v += power_residue(field, e, t) *
                     pm.combine[static_cast<std::size_t>(e)][static_cast<std::size_t>(m)];
              uv(2 * c + t, 3 * c + m) = v;
            }
        }
        const Matrix<Rational, 4, 6> P = inverse(E) * uv;
        for (int p = 0; p < 6; ++p)
          for (int e = 0; e < 4; ++e)
            out.prod[static_cast<std::size_t>(p)].recon[static_cast<std::size_t>(e)] = P(e, p);
        return out;
      }
  return none;
}

}  // namespace detail

/// A 1D bilinear algorithm in factored stages, sized at run time: what the
/// 2D forms are built from (SFC or Winograd alike).
struct Stages1D {
  int M = 0, R = 0, L = 0, K = 0, T = 0;
  std::vector<MultBlock> groups;
  DenseMatrix Dx, Dw, Ox;  ///< K x L, K x R, M x K
};

/// A complete 2D algorithm in factored stages, sized at run time.
struct Plan2D {
  Form2D form = Form2D::nested;
  int M = 0, R = 0, L = 0, K = 0, T = 0;
  DenseMatrix Dx, Dw, Ox;
  std::vector<PairBlock> pairs;       ///< row-group-major
  std::vector<PairProduct> products;  ///< pairs[i] owns [first_product, +products)
};

/// Builds the nested or symbolic 2D form of a 1D algorithm.
constexpr Plan2D make_plan_2d(const Stages1D& s, Form2D form) {
  Plan2D plan;
  plan.form = form;
  plan.M = s.M;
  plan.R = s.R;
  plan.L = s.L;
  plan.K = s.K;
  plan.Dx = s.Dx;
  plan.Dw = s.Dw;
  plan.Ox = s.Ox;
  const int G = static_cast<int>(s.groups.size());
  plan.pairs.reserve(static_cast<std::size_t>(G * G));
  plan.products.reserve(static_cast<std::size_t>(s.T * s.T));  // the nested count bounds it
  for (int gi = 0; gi < G; ++gi)
    for (int gj = 0; gj < G; ++gj) {
      const MultBlock& a = s.groups[static_cast<std::size_t>(gi)];
      const MultBlock& b = s.groups[static_cast<std::size_t>(gj)];
      PairBlock p{gi, gj, a.offset, b.offset, a.size, b.size,
                  static_cast<int>(plan.products.size()), a.products * b.products, false, {}};
      if (detail::may_split(a, b, form)) {
        const detail::SplitPair sp = detail::split_pair(a, b, s.Dx, s.Dw);
        if (sp.split) {
          p.split = true;
          p.split_signs = sp.split_signs;
          p.products = sp.products;
          for (int i = 0; i < sp.products; ++i) plan.products.push_back(sp.prod[static_cast<std::size_t>(i)]);
        }
      }
      if (!p.split) {
        plan.products.resize(plan.products.size() + static_cast<std::size_t>(p.products));
        detail::nested_pair_into(a, b, &plan.products[static_cast<std::size_t>(p.first_product)]);
      }
      plan.pairs.push_back(p);
    }
  plan.T = static_cast<int>(plan.products.size());
  return plan;
}

/// Dense BT2 (T x L*L): row p is the data tile's linear form for product p;
/// tile entry (a, b) is column a * L + b. With `weights`, G2 (T x R*R).
constexpr DenseMatrix dense_input_transform(const Plan2D& plan, bool weights) {
  const DenseMatrix& S = weights ? plan.Dw : plan.Dx;
  const int W = S.cols;
  DenseMatrix out(plan.T, W * W);
  for (const PairBlock& pb : plan.pairs)
    for (int p = pb.first_product; p < pb.first_product + pb.products; ++p)
      for (int e = 0; e < pb.rows * pb.cols; ++e) {
        const int f = plan.products[static_cast<std::size_t>(p)].form[static_cast<std::size_t>(e)];
        if (f == 0) continue;
        for (int a = 0; a < W; ++a) {
          const Rational fa = Rational(f) * S(pb.row_offset + e / pb.cols, a);
          if (fa.is_zero()) continue;
          for (int b = 0; b < W; ++b) out(p, a * W + b) += fa * S(pb.col_offset + e % pb.cols, b);
        }
      }
  return out;
}

/// Dense AT2 (M*M x T): output (i, j) at row i * M + j.
constexpr DenseMatrix dense_output_transform(const Plan2D& plan) {
  const int M = plan.M;
  DenseMatrix at(M * M, plan.T);
  for (const PairBlock& pb : plan.pairs)
    for (int p = pb.first_product; p < pb.first_product + pb.products; ++p)
      for (int e = 0; e < pb.rows * pb.cols; ++e) {
        const Rational& r = plan.products[static_cast<std::size_t>(p)].recon[static_cast<std::size_t>(e)];
        if (r.is_zero()) continue;
        for (int i = 0; i < M; ++i) {
          const Rational ri = r * plan.Ox(i, pb.row_offset + e / pb.cols);
          if (ri.is_zero()) continue;
          for (int j = 0; j < M; ++j) at(i * M + j, p) += ri * plan.Ox(j, pb.col_offset + e % pb.cols);
        }
      }
  return at;
}

/// L1 norm of every row of the dense data (or weight) transform, computed in
/// integers scaled by the stage's common denominator.
constexpr std::vector<Rational> transform_row_l1(const Plan2D& plan, bool weights) {
  const DenseMatrix& S = weights ? plan.Dw : plan.Dx;
  const int W = S.cols;
  const std::int64_t d = common_denominator(S);
  const auto scaled = [&](int r, int c) { return S(r, c).num() * (d / S(r, c).den()); };
  std::vector<Rational> out;
  std::vector<std::int64_t> row = detail::zeros_i64(static_cast<std::size_t>(W * W));
  for (const PairBlock& pb : plan.pairs)
    for (int p = pb.first_product; p < pb.first_product + pb.products; ++p) {
      for (auto& v : row) v = 0;
      for (int e = 0; e < pb.rows * pb.cols; ++e) {
        const int f = plan.products[static_cast<std::size_t>(p)].form[static_cast<std::size_t>(e)];
        if (f == 0) continue;
        for (int a = 0; a < W; ++a) {
          const std::int64_t fa = f * scaled(pb.row_offset + e / pb.cols, a);
          if (fa == 0) continue;
          for (int b = 0; b < W; ++b)
            row[static_cast<std::size_t>(a * W + b)] += fa * scaled(pb.col_offset + e % pb.cols, b);
        }
      }
      std::int64_t l1 = 0;
      for (const std::int64_t v : row) l1 += v < 0 ? -v : v;
      out.push_back(Rational(l1, detail::checked_mul_i64(d, d)));
    }
  return out;
}

/// Common denominator of the products' reconstruction coefficients.
constexpr std::int64_t recon_denominator(const Plan2D& plan) {
  std::int64_t d = 1;
  for (const PairProduct& q : plan.products)
    for (const Rational& r : q.recon) d = detail::lcm_i64(d, r.den());
  return d;
}

/// Common denominator of AT2, computed in integers scaled by dO^2 dR.
constexpr std::int64_t output_denominator(const Plan2D& plan) {
  const int M = plan.M;
  const std::int64_t dO = common_denominator(plan.Ox);
  const std::int64_t dR = recon_denominator(plan);
  const std::int64_t D = detail::checked_mul_i64(detail::checked_mul_i64(dO, dO), dR);
  std::int64_t g = D;
  std::vector<std::int64_t> at = detail::zeros_i64(static_cast<std::size_t>(M * M));
  for (const PairBlock& pb : plan.pairs)
    for (int p = pb.first_product; p < pb.first_product + pb.products; ++p) {
      for (auto& v : at) v = 0;
      for (int e = 0; e < pb.rows * pb.cols; ++e) {
        const Rational& r = plan.products[static_cast<std::size_t>(p)].recon[static_cast<std::size_t>(e)];
        if (r.is_zero()) continue;
        const std::int64_t ri = r.num() * (dR / r.den());
        for (int i = 0; i < M; ++i) {
          const Rational& oi = plan.Ox(i, pb.row_offset + e / pb.cols);
          const std::int64_t a = ri * oi.num() * (dO / oi.den());
          if (a == 0) continue;
          for (int j = 0; j < M; ++j) {
            const Rational& oj = plan.Ox(j, pb.col_offset + e % pb.cols);
            at[static_cast<std::size_t>(i * M + j)] += a * oj.num() * (dO / oj.den());
          }
        }
      }
      for (const std::int64_t v : at) g = detail::gcd_i64(g, v);
    }
  return D / g;
}

namespace detail {
constexpr Rational max_of(const std::vector<Rational>& v) {
  Rational best;
  for (const Rational& x : v)
    if (best < x) best = x;
  return best;
}
}  // namespace detail

/// The 2D form of the typed 1D algorithm Alg, with its plan as constexpr arrays.
template <class Alg, Form2D F>
struct Algorithm2D {
  using algorithm = Alg;
  static constexpr Form2D form = F;
  static constexpr int K = Alg::K;
  static constexpr int L = Alg::L;
  static constexpr int M = Alg::M;
  static constexpr int R = Alg::R;
  static constexpr int num_groups = static_cast<int>(Alg::groups.size());
  static constexpr int num_pairs = num_groups * num_groups;

  /// The run-time description (shared with the run-time generators).
  static constexpr Plan2D plan() { return make_plan_2d(Alg::stages(), F); }

  /// Multiplications per 2D tile.
  static constexpr int T = plan().T;

 private:
  struct Tables {
    std::array<PairBlock, num_pairs> pairs{};
    std::array<PairProduct, T> products{};
  };
  static constexpr Tables tables_ = [] {
    const Plan2D p = plan();
    Tables t;
    for (std::size_t i = 0; i < t.pairs.size(); ++i) t.pairs[i] = p.pairs[i];
    for (std::size_t i = 0; i < t.products.size(); ++i) t.products[i] = p.products[i];
    return t;
  }();
  struct Bounds {
    Rational data, weight, product;
    std::int64_t denominator = 1;
  };
  // Computed only when a bound is used.
  static constexpr Bounds bounds() {
    const Plan2D p = plan();
    const std::vector<Rational> d = transform_row_l1(p, false);
    const std::vector<Rational> w = transform_row_l1(p, true);
    Bounds b;
    b.data = detail::max_of(d);
    b.weight = detail::max_of(w);
    for (std::size_t i = 0; i < d.size(); ++i)
      if (b.product < d[i] * w[i]) b.product = d[i] * w[i];
    b.denominator = output_denominator(p);
    return b;
  }
  static constexpr Bounds bounds_ = bounds();

 public:
  /// Pair blocks in row-group-major order, with their product ranges.
  static constexpr std::array<PairBlock, num_pairs> pairs = tables_.pairs;
  /// Products in order: pairs[i] owns products [first_product, first_product + products).
  static constexpr std::array<PairProduct, T> products = tables_.products;

  /// Number of split pair blocks.
  static constexpr int num_split_pairs = [] {
    int n = 0;
    for (const PairBlock& p : pairs) n += p.split ? 1 : 0;
    return n;
  }();

  /// Dense BT2 (T x L*L), G2 (T x R*R), AT2 (M*M x T); see dense_*_transform.
  static constexpr DenseMatrix BT() { return dense_input_transform(plan(), false); }
  static constexpr DenseMatrix G() { return dense_input_transform(plan(), true); }
  static constexpr DenseMatrix AT() { return dense_output_transform(plan()); }

  /// Worst-case gains: max row L1 norms of BT2 and G2.
  static constexpr Rational data_growth = bounds_.data;
  static constexpr Rational weight_growth = bounds_.weight;
  /// max_p L1(BT2 row p) * L1(G2 row p): the largest |product| per unit input and weight.
  static constexpr Rational product_growth = bounds_.product;
  /// Common denominator of AT2 (N^2 for SFC-N).
  static constexpr std::int64_t AT_denominator = bounds_.denominator;
};

}  // namespace sfc
