#pragma once
/// \file
/// Tile transforms generated from an algorithm's constexpr matrices.
///
/// A 2D algorithm type (`SFC<6,7,3>::symbolic_2d`, `Winograd<4,3>::nested_2d`,
/// ...) runs in factored stages (see transforms/form2d.hpp):
///
///   data:    Z = Dx X Dx^T (K x K),  d_q = form_q . Z[pair block of q]
///   weights: Z = Dw W Dw^T,          u_q = form_q . Z[pair block of q]
///   output:  P[block of q] += recon_q m_q,  Y = Ox P Ox^T (M x M)
///
/// `TileMaps<A2>` holds each stage as a sparse matrix of exact coefficients,
/// built at compile time from the algorithm's tables: nothing here is typed
/// by hand. `InputTransform` and `OutputTransform` apply the stages to
/// vectors of channels (one SIMD vector per tile position), unrolled with
/// the coefficients as constants: a zero costs nothing, +-1 is an add or a
/// subtract, anything else a multiply-add. `transform_weights` applies the
/// weight stages in double precision (once, when an operator is built).

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "sfc/algebra/rational.hpp"
#include "sfc/kernels/static_for.hpp"
#include "sfc/transforms/form2d.hpp"

#ifndef SFC_UNROLL_TRANSFORMS
#ifdef __OPTIMIZE__
#define SFC_UNROLL_TRANSFORMS 1
#else
#define SFC_UNROLL_TRANSFORMS 0
#endif
#endif

namespace sfc::kernels {

/// A Rows-row sparse matrix with Nnz non-zero entries, stored row by row:
/// row r holds entries [begin[r], begin[r + 1]), each a column index with
/// its exact coefficient and that coefficient as a double.
template <int Rows, int Nnz>
struct SparseRows {
  static constexpr int rows = Rows;
  static constexpr int nnz = Nnz;
  std::array<int, Rows + 1> begin{};
  std::array<int, (Nnz > 0 ? Nnz : 1)> col{};
  std::array<Rational, (Nnz > 0 ? Nnz : 1)> coef{};
  std::array<double, (Nnz > 0 ? Nnz : 1)> value{};
};

namespace detail {

/// Non-zero count of a dense exact matrix.
template <class Mat>
constexpr int count_nonzero(const Mat& m, int rows, int cols) {
  int n = 0;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) n += m(r, c).is_zero() ? 0 : 1;
  return n;
}

template <int Rows, int Nnz, class Mat>
constexpr SparseRows<Rows, Nnz> sparse_from_dense(const Mat& m, int cols) {
  SparseRows<Rows, Nnz> s;
  int n = 0;
  for (int r = 0; r < Rows; ++r) {
    s.begin[static_cast<std::size_t>(r)] = n;
    for (int c = 0; c < cols; ++c) {
      if (m(r, c).is_zero()) continue;
      s.col[static_cast<std::size_t>(n)] = c;
      s.coef[static_cast<std::size_t>(n)] = m(r, c);
      s.value[static_cast<std::size_t>(n)] = m(r, c).to_double();
      ++n;
    }
  }
  s.begin[Rows] = n;
  return s;
}

/// Index into the K x K residue tile of entry e of pair block `pb`.
constexpr int pair_entry_index(const PairBlock& pb, int e, int K) {
  return (pb.row_offset + e / pb.cols) * K + (pb.col_offset + e % pb.cols);
}

}  // namespace detail

/// Every stage of the 2D algorithm A2 as a constexpr sparse matrix.
template <class A2>
struct TileMaps {
  using algorithm = typename A2::algorithm;
  static constexpr int K = A2::K;  ///< residue rows per dimension
  static constexpr int L = A2::L;  ///< input tile side
  static constexpr int M = A2::M;  ///< output tile side
  static constexpr int R = A2::R;  ///< kernel side
  static constexpr int T = A2::T;  ///< products (transform slots) per tile

 private:
  static constexpr const auto& Dx = algorithm::Dx;
  static constexpr const auto& Dw = algorithm::Dw;
  static constexpr const auto& Ox = algorithm::Ox;

  template <class F>
  static constexpr void for_each_form_entry(F&& f) {
    for (const PairBlock& pb : A2::pairs)
      for (int q = pb.first_product; q < pb.first_product + pb.products; ++q)
        for (int e = 0; e < pb.rows * pb.cols; ++e) f(pb, q, e);
  }
  static constexpr int form_nnz = [] {
    int n = 0;
    for_each_form_entry([&](const PairBlock&, int q, int e) {
      n += A2::products[static_cast<std::size_t>(q)].form[static_cast<std::size_t>(e)] != 0;
    });
    return n;
  }();
  // Slot q's transformed weight as a combination of the R x R kernel taps
  // (tap (a, b) is column a * R + b): the weight stages composed,
  // u_q = sum_e form_q[e] (Dw W Dw^T)[e], dense.
  static constexpr std::array<Rational, T * R * R> slot_taps_dense = [] {
    std::array<Rational, T * R * R> d{};
    for_each_form_entry([&](const PairBlock& pb, int q, int e) {
      const int f = A2::products[static_cast<std::size_t>(q)].form[static_cast<std::size_t>(e)];
      if (f == 0) return;
      const int z = detail::pair_entry_index(pb, e, K);
      for (int a = 0; a < R; ++a)
        for (int b = 0; b < R; ++b)
          d[static_cast<std::size_t>((q * R + a) * R + b)] +=
              Rational(f) * Dw(z / K, a) * Dw(z % K, b);
    });
    return d;
  }();
  static constexpr int slot_taps_nnz = [] {
    int n = 0;
    for (const Rational& r : slot_taps_dense) n += r.is_zero() ? 0 : 1;
    return n;
  }();
  struct DenseView {
    constexpr const Rational& operator()(int r, int c) const {
      return slot_taps_dense[static_cast<std::size_t>(r * R * R + c)];
    }
  };

 public:
  /// T x (R*R): slot q's transformed weight from the kernel taps (tap (a,
  /// b) is column a * R + b), what the on-the-fly weight path computes.
  static constexpr auto slot_taps = detail::sparse_from_dense<T, slot_taps_nnz>(DenseView{},
                                                                                 R * R);

 private:
  static constexpr int recon_nnz = [] {
    int n = 0;
    for_each_form_entry([&](const PairBlock&, int q, int e) {
      n += !A2::products[static_cast<std::size_t>(q)].recon[static_cast<std::size_t>(e)].is_zero();
    });
    return n;
  }();

 public:
  /// Dx (K x L): the 1D data stage.
  static constexpr auto dx = detail::sparse_from_dense<K, detail::count_nonzero(Dx, K, L)>(Dx, L);
  /// Dw (K x R): the 1D weight stage.
  static constexpr auto dw = detail::sparse_from_dense<K, detail::count_nonzero(Dw, K, R)>(Dw, R);
  /// Ox (M x K): the 1D output stage.
  static constexpr auto ox = detail::sparse_from_dense<M, detail::count_nonzero(Ox, M, K)>(Ox, K);

  /// T x (K*K): product q's linear form over the residue tile Z.
  static constexpr SparseRows<T, form_nnz> forms = [] {
    SparseRows<T, form_nnz> s;
    int n = 0;
    for (int q = 0; q < T; ++q) {
      s.begin[static_cast<std::size_t>(q)] = n;
      for (const PairBlock& pb : A2::pairs) {
        if (q < pb.first_product || q >= pb.first_product + pb.products) continue;
        for (int e = 0; e < pb.rows * pb.cols; ++e) {
          const int f = A2::products[static_cast<std::size_t>(q)].form[static_cast<std::size_t>(e)];
          if (f == 0) continue;
          s.col[static_cast<std::size_t>(n)] = detail::pair_entry_index(pb, e, K);
          s.coef[static_cast<std::size_t>(n)] = Rational(f);
          s.value[static_cast<std::size_t>(n)] = f;
          ++n;
        }
      }
    }
    s.begin[T] = n;
    return s;
  }();

  /// (K*K) x T: residue-tile entry z accumulates recon[z][q] * m_q.
  static constexpr SparseRows<K * K, recon_nnz> recon = [] {
    SparseRows<K * K, recon_nnz> s;
    std::array<int, K * K + 1> count{};
    for_each_form_entry([&](const PairBlock& pb, int q, int e) {
      if (!A2::products[static_cast<std::size_t>(q)].recon[static_cast<std::size_t>(e)].is_zero())
        ++count[static_cast<std::size_t>(detail::pair_entry_index(pb, e, K) + 1)];
    });
    for (int z = 0; z < K * K; ++z)
      count[static_cast<std::size_t>(z + 1)] += count[static_cast<std::size_t>(z)];
    for (int z = 0; z <= K * K; ++z) s.begin[static_cast<std::size_t>(z)] = count[static_cast<std::size_t>(z)];
    // Products are visited in increasing q, so each row's columns come out sorted.
    for_each_form_entry([&](const PairBlock& pb, int q, int e) {
      const Rational& r = A2::products[static_cast<std::size_t>(q)].recon[static_cast<std::size_t>(e)];
      if (r.is_zero()) return;
      const auto z = static_cast<std::size_t>(detail::pair_entry_index(pb, e, K));
      const auto n = static_cast<std::size_t>(count[z]++);
      s.col[n] = q;
      s.coef[n] = r;
      s.value[n] = r.to_double();
    });
    return s;
  }();
};

/// Vector arithmetic for the transforms, over float SIMD vectors of target S.
/// Other element types (the integer kernels) provide the same members.
template <class S>
struct F32Ops {
  using vec = typename S::f32;
  static vec zero() noexcept { return S::zero(); }
  static vec neg(vec a) noexcept { return S::neg(a); }
  static vec add(vec a, vec b) noexcept { return S::add(a, b); }
  static vec sub(vec a, vec b) noexcept { return S::sub(a, b); }
  /// c * x for a coefficient known at compile time.
  static vec scale(double c, vec x) noexcept { return S::mul(S::broadcast(static_cast<float>(c)), x); }
  /// acc + c * x.
  static vec scale_add(double c, vec x, vec acc) noexcept {
    return S::fmadd(S::broadcast(static_cast<float>(c)), x, acc);
  }
};

namespace detail {

/// Row r of `Map` times Scale applied to values load(col): sum_k Scale *
/// coef_k * load(col_k), unrolled with constant coefficients.
template <class Ops, const auto& Map, int Row, std::int64_t Scale, class Load>
inline __attribute__((always_inline)) typename Ops::vec sparse_row(Load& load) {
  constexpr int b = Map.begin[Row];
  constexpr int e = Map.begin[Row + 1];
  if constexpr (b == e) {
    return Ops::zero();
  } else {
    constexpr double c0 = Map.value[b] * static_cast<double>(Scale);
    typename Ops::vec acc;
    if constexpr (c0 == 1.0) {
      acc = load(Map.col[b]);
    } else if constexpr (c0 == -1.0) {
      acc = Ops::neg(load(Map.col[b]));
    } else {
      acc = Ops::scale(c0, load(Map.col[b]));
    }
    static_for<e - b - 1>([&](auto k) {
      constexpr int i = b + 1 + decltype(k)::value;
      constexpr double c = Map.value[i] * static_cast<double>(Scale);
      if constexpr (c == 1.0) {
        acc = Ops::add(acc, load(Map.col[i]));
      } else if constexpr (c == -1.0) {
        acc = Ops::sub(acc, load(Map.col[i]));
      } else {
        acc = Ops::scale_add(c, load(Map.col[i]), acc);
      }
    });
    return acc;
  }
}

/// The same rows as a loop over the table, for unoptimized builds: fully
/// unrolled transforms are tens of thousands of instructions per tile at -O0
/// (more under sanitizers) and dominated the compile time of debug builds.
/// Same operations in the same order, so the same results.
template <class Ops, const auto& Map, std::int64_t Scale, class Load, class Store>
void sparse_rows_loop(int first, int count, Load& load, Store& store) {
  using V = typename Ops::vec;
  for (int r = first; r < first + count; ++r) {
    const int b = Map.begin[static_cast<std::size_t>(r)];
    const int e = Map.begin[static_cast<std::size_t>(r) + 1];
    if (b == e) {
      store(r - first, Ops::zero());
      continue;
    }
    const auto term = [&](int i) { return Map.value[static_cast<std::size_t>(i)] * static_cast<double>(Scale); };
    const auto at = [&](int i) { return load(Map.col[static_cast<std::size_t>(i)]); };
    const double c0 = term(b);
    V acc = c0 == 1.0 ? at(b) : c0 == -1.0 ? Ops::neg(at(b)) : Ops::scale(c0, at(b));
    for (int i = b + 1; i < e; ++i) {
      const double c = term(i);
      acc = c == 1.0 ? Ops::add(acc, at(i)) : c == -1.0 ? Ops::sub(acc, at(i)) : Ops::scale_add(c, at(i), acc);
    }
    store(r - first, acc);
  }
}

/// Rows [First, First + Count) of `Map` (times Scale): store(r - First,
/// row r). Unrolled with constant coefficients when optimizing (define
/// SFC_UNROLL_TRANSFORMS=1 to force it, =0 to never unroll). Inline: every
/// row inlined whatever the compiler's size limits (the output transforms:
/// GCC 12 otherwise calls some rows out of line; not the data transforms,
/// where it makes GCC 12's vectorizer fail on the portable target).
template <class Ops, const auto& Map, std::int64_t Scale, int First, int Count, bool Inline = false,
          class Load, class Store>
inline __attribute__((always_inline)) void sparse_apply_rows(Load&& load, Store&& store) {
#if SFC_UNROLL_TRANSFORMS
  if constexpr (Inline) {
    static_for<Count>([&](auto r) __attribute__((always_inline)) {
      store(decltype(r)::value, sparse_row<Ops, Map, First + decltype(r)::value, Scale>(load));
    });
  } else {
    static_for<Count>([&](auto r) {
      store(decltype(r)::value, sparse_row<Ops, Map, First + decltype(r)::value, Scale>(load));
    });
  }
#else
  sparse_rows_loop<Ops, Map, Scale>(First, Count, load, store);
#endif
}

/// Every row of `Map` (times Scale): store(r, row r).
template <class Ops, const auto& Map, std::int64_t Scale = 1, bool Inline = false, class Load,
          class Store>
inline __attribute__((always_inline)) void sparse_apply(Load&& load, Store&& store) {
  sparse_apply_rows<Ops, Map, Scale, 0, std::remove_cvref_t<decltype(Map)>::rows, Inline>(load,
                                                                                          store);
}

/// Smallest positive integer d with d * coef integral for every coefficient.
template <int Rows, int Nnz>
constexpr std::int64_t denominator_of(const SparseRows<Rows, Nnz>& map) {
  std::int64_t d = 1;
  for (int i = 0; i < Nnz; ++i) {
    const std::int64_t den = map.coef[static_cast<std::size_t>(i)].den();
    std::int64_t a = d, b = den;
    while (b != 0) {
      const std::int64_t t = a % b;
      a = b;
      b = t;
    }
    d = d / a * den;
  }
  return d;
}

}  // namespace detail

/// The data transform of one tile for one vector of channels, in the
/// arithmetic of Ops (F32Ops<S>, or an integer one).
template <class A2, class Ops>
struct InputTransform {
  using Maps = TileMaps<A2>;
  using V = typename Ops::vec;
  static constexpr int K = Maps::K, L = Maps::L, T = Maps::T;

  /// load(a, b) gives window position (a, b); store(q, v) receives product q.
  template <class Load, class Store>
  static void apply(Load&& load, Store&& store) {
    V rows[K * L];  // Dx X
    V z[K * K];     // Dx X Dx^T
    for (int b = 0; b < L; ++b) {
      detail::sparse_apply<Ops, Maps::dx>([&](int a) { return load(a, b); },
                                          [&](int i, V v) { rows[i * L + b] = v; });
    }
    for (int i = 0; i < K; ++i) {
      const V* row = rows + i * L;
      detail::sparse_apply<Ops, Maps::dx>([&](int b) { return row[b]; },
                                          [&](int k, V v) { z[i * K + k] = v; });
    }
    detail::sparse_apply<Ops, Maps::forms>([&](int e) { return z[e]; }, store);
  }
};

/// The output transform of one tile for one vector of output channels.
/// With Integer, every stage is scaled to integer coefficients and the
/// result is `scale` times the true output (divide it exactly afterwards).
template <class A2, class Ops, bool Integer = false>
struct OutputTransform {
  using Maps = TileMaps<A2>;
  using V = typename Ops::vec;
  static constexpr int K = Maps::K, M = Maps::M, T = Maps::T;
  static constexpr std::int64_t recon_scale = Integer ? detail::denominator_of(Maps::recon) : 1;
  static constexpr std::int64_t ox_scale = Integer ? detail::denominator_of(Maps::ox) : 1;
  /// The factor the output carries: recon_scale * ox_scale^2 (1 for floats).
  static constexpr std::int64_t scale = recon_scale * ox_scale * ox_scale;

  /// load(q) gives product q; output (i, j) is passed to emit(i, j, vector).
  template <class Load, class Emit>
  static void apply(Load&& load, Emit&& emit) {
    V h[K * M];  // P Ox^T
    // Row k of the residue tile P (from the products), times Ox^T.
    static_for<K>([&](auto k) __attribute__((always_inline)) {
      constexpr int row = decltype(k)::value;
      V p[K];
      detail::sparse_apply_rows<Ops, Maps::recon, recon_scale, row * K, K, true>(
          load, [&](int l, V v) __attribute__((always_inline)) { p[l] = v; });
      detail::sparse_apply<Ops, Maps::ox, ox_scale, true>(
          [&](int l) __attribute__((always_inline)) { return p[l]; },
          [&](int j, V v) __attribute__((always_inline)) { h[row * M + j] = v; });
    });
    // Column j of Ox (P Ox^T).
    for (int j = 0; j < M; ++j) {
      detail::sparse_apply<Ops, Maps::ox, ox_scale, true>(
          [&](int k) __attribute__((always_inline)) { return h[k * M + j]; },
          [&](int i, V v) __attribute__((always_inline)) { emit(i, j, v); });
    }
  }
};

/// Sparse matrix times a vector in double precision, at run time.
template <int Rows, int Nnz, class Load, class Store>
void sparse_apply_runtime(const SparseRows<Rows, Nnz>& map, Load&& load, Store&& store) {
  for (int r = 0; r < Rows; ++r) {
    double acc = 0;
    for (int i = map.begin[static_cast<std::size_t>(r)]; i < map.begin[static_cast<std::size_t>(r) + 1]; ++i)
      acc += map.value[static_cast<std::size_t>(i)] * load(map.col[static_cast<std::size_t>(i)]);
    store(r, acc);
  }
}

namespace detail {

/// Z = D X D^T for an N x N input x(a, b) and the K x N map D, then the
/// forms: store(q, form_q . Z), in double at run time.
template <class A2, const auto& D, int N, class Input, class Store>
void transform_2d_runtime(Input&& x, Store&& store) {
  using Maps = TileMaps<A2>;
  constexpr int K = Maps::K;
  std::array<double, K * N> rows{};
  std::array<double, K * K> z{};
  for (int b = 0; b < N; ++b)
    sparse_apply_runtime(D, [&](int a) { return x(a, b); },
                         [&](int i, double v) { rows[static_cast<std::size_t>(i * N + b)] = v; });
  for (int i = 0; i < K; ++i)
    sparse_apply_runtime(D, [&](int b) { return rows[static_cast<std::size_t>(i * N + b)]; },
                         [&](int k, double v) { z[static_cast<std::size_t>(i * K + k)] = v; });
  sparse_apply_runtime(Maps::forms, [&](int e) { return z[static_cast<std::size_t>(e)]; }, store);
}

}  // namespace detail

/// The weight transform of one R x R kernel (w(a, b) gives tap (a, b)) in
/// double precision: store(q, u_q) for every product q.
template <class A2, class Weight, class Store>
void transform_weights(Weight&& w, Store&& store) {
  detail::transform_2d_runtime<A2, TileMaps<A2>::dw, A2::R>(w, store);
}

/// The data transform of one L x L window (x(a, b) gives position (a, b))
/// in double precision at run time: store(q, d_q) for every product q.
/// Exact for integer data (the data transforms are integer). For plan-time
/// work and references; the kernels use InputTransform.
template <class A2, class Data, class Store>
void transform_data_runtime(Data&& x, Store&& store) {
  detail::transform_2d_runtime<A2, TileMaps<A2>::dx, A2::L>(x, store);
}

/// The output transform of one tile in double precision at run time:
/// m(q) gives product q, emit(i, j, y_ij) receives the M x M outputs. For
/// references; the kernels use OutputTransform.
template <class A2, class Products, class Emit>
void transform_output_runtime(Products&& m, Emit&& emit) {
  using Maps = TileMaps<A2>;
  constexpr int K = Maps::K, M = Maps::M;
  std::array<double, K * K> p{};
  std::array<double, M * K> h{};
  sparse_apply_runtime(Maps::recon, m, [&](int e, double v) { p[static_cast<std::size_t>(e)] = v; });
  for (int l = 0; l < K; ++l)
    sparse_apply_runtime(Maps::ox, [&](int k) { return p[static_cast<std::size_t>(k * K + l)]; },
                         [&](int i, double v) { h[static_cast<std::size_t>(i * K + l)] = v; });
  for (int i = 0; i < M; ++i)
    sparse_apply_runtime(Maps::ox, [&](int l) { return h[static_cast<std::size_t>(i * K + l)]; },
                         [&](int j, double v) { emit(i, j, v); });
}

}  // namespace sfc::kernels
