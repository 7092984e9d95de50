#pragma once
// Fixed-size, row-major, constexpr matrices.
//
// Eigen has no constexpr support, so the transform generators work with this
// small type and convert to Eigen or plain arrays only at the boundary.

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "sfc/algebra/rational.hpp"

namespace sfc {

template <class T, int Rows, int Cols>
struct Matrix {
  static_assert(Rows >= 0 && Cols >= 0, "sfc::Matrix: negative extent");
  static constexpr int rows = Rows;
  static constexpr int cols = Cols;
  using value_type = T;

  std::array<T, static_cast<std::size_t>(Rows) * static_cast<std::size_t>(Cols)> data{};

  constexpr T& operator()(int r, int c) { return data[index(r, c)]; }
  constexpr const T& operator()(int r, int c) const { return data[index(r, c)]; }

  friend constexpr bool operator==(const Matrix&, const Matrix&) = default;

  constexpr Matrix<T, Cols, Rows> transpose() const {
    Matrix<T, Cols, Rows> out;
    for (int r = 0; r < Rows; ++r)
      for (int c = 0; c < Cols; ++c) out(c, r) = (*this)(r, c);
    return out;
  }

 private:
  static constexpr std::size_t index(int r, int c) {
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(Cols) +
           static_cast<std::size_t>(c);
  }
};

template <class T, int A, int B, int C>
constexpr Matrix<T, A, C> operator*(const Matrix<T, A, B> x, const Matrix<T, B, C> y) {
  Matrix<T, A, C> out;
  for (int i = 0; i < A; ++i)
    for (int k = 0; k < B; ++k) {
      if (x(i, k) == T{}) continue;
      for (int j = 0; j < C; ++j) out(i, j) += x(i, k) * y(k, j);
    }
  return out;
}

/// Kronecker product: (x (x) y)(i*yr + k, j*yc + l) = x(i, j) * y(k, l).
template <class T, int A, int B, int C, int D>
constexpr Matrix<T, A * C, B * D> kron(const Matrix<T, A, B>& x, const Matrix<T, C, D>& y) {
  Matrix<T, A * C, B * D> out;
  for (int i = 0; i < A; ++i)
    for (int j = 0; j < B; ++j)
      for (int k = 0; k < C; ++k)
        for (int l = 0; l < D; ++l) out(i * C + k, j * D + l) = x(i, j) * y(k, l);
  return out;
}

template <class T, int N>
constexpr Matrix<T, N, N> identity() {
  Matrix<T, N, N> out;
  for (int i = 0; i < N; ++i) out(i, i) = T{1};
  return out;
}

namespace detail {

/// n zeros. Built element by element: Clang 14 rejects libstdc++'s sized
/// constructor of a vector of trivial elements in constant expressions.
constexpr std::vector<std::int64_t> zeros_i64(std::size_t n) {
  std::vector<std::int64_t> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) v.push_back(0);
  return v;
}

}  // namespace detail

/// A run-time sized, row-major rational matrix (constexpr-usable: its storage
/// is a std::vector, so constant expressions may use it transiently).
struct DenseMatrix {
  int rows = 0;
  int cols = 0;
  std::vector<Rational> data;

  constexpr DenseMatrix() = default;
  constexpr DenseMatrix(int r, int c)
      : rows(r), cols(c), data(static_cast<std::size_t>(r) * static_cast<std::size_t>(c)) {}
  template <int R, int C>
  static constexpr DenseMatrix from(const Matrix<Rational, R, C>& m) {
    DenseMatrix d(R, C);
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        // Rebuilt from its fields rather than copied: GCC 12 misreads a copy
        // of a static constexpr member here as a modification of it.
        d(r, c) = Rational(m(r, c).num(), m(r, c).den());
      }
    return d;
  }
  constexpr Rational& operator()(int r, int c) {
    return data[static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) +
                static_cast<std::size_t>(c)];
  }
  constexpr const Rational& operator()(int r, int c) const {
    return data[static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) +
                static_cast<std::size_t>(c)];
  }
  friend constexpr bool operator==(const DenseMatrix&, const DenseMatrix&) = default;
};

/// Inverse of a square dense matrix (Gauss-Jordan); throws when singular.
constexpr DenseMatrix inverse(DenseMatrix a) {
  if (a.rows != a.cols) throw std::domain_error("sfc::inverse: matrix is not square");
  const int n = a.rows;
  DenseMatrix inv(n, n);
  for (int i = 0; i < n; ++i) inv(i, i) = 1;
  for (int c = 0; c < n; ++c) {
    int pivot = c;
    while (pivot < n && a(pivot, c).is_zero()) ++pivot;
    if (pivot == n) throw std::domain_error("sfc::inverse: singular matrix");
    for (int j = 0; j < n; ++j) {
      const Rational t = a(c, j);
      a(c, j) = a(pivot, j);
      a(pivot, j) = t;
      const Rational u = inv(c, j);
      inv(c, j) = inv(pivot, j);
      inv(pivot, j) = u;
    }
    const Rational p = a(c, c);
    for (int j = 0; j < n; ++j) {
      a(c, j) /= p;
      inv(c, j) /= p;
    }
    for (int r = 0; r < n; ++r) {
      if (r == c || a(r, c).is_zero()) continue;
      const Rational f = a(r, c);
      for (int j = 0; j < n; ++j) {
        a(r, j) -= f * a(c, j);
        inv(r, j) -= f * inv(c, j);
      }
    }
  }
  return inv;
}

/// Least common multiple of the denominators of a dense matrix.
constexpr std::int64_t common_denominator(const DenseMatrix& m) {
  std::int64_t d = 1;
  for (const Rational& v : m.data) d = detail::lcm_i64(d, v.den());
  return d;
}

/// True when every entry is 0, +1 or -1.
constexpr bool is_ternary(const DenseMatrix& m) {
  for (const Rational& v : m.data)
    if (!(v == Rational(0) || v == Rational(1) || v == Rational(-1))) return false;
  return true;
}

/// Copy into a fixed-size matrix (sizes must agree).
template <int R, int C>
constexpr Matrix<Rational, R, C> to_fixed(const DenseMatrix& d) {
  if (d.rows != R || d.cols != C) throw std::logic_error("sfc::to_fixed: size mismatch");
  Matrix<Rational, R, C> m;
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) m(r, c) = d(r, c);
  return m;
}

/// Inverse of a square fixed-size rational matrix (Gauss-Jordan, see the
/// dense overload); throws std::domain_error (a compile error in a constant
/// expression) when singular.
template <int N>
constexpr Matrix<Rational, N, N> inverse(const Matrix<Rational, N, N>& a) {
  return to_fixed<N, N>(inverse(DenseMatrix::from(a)));
}

/// Absolute value that works for built-in integers and sfc::Rational.
template <class T>
constexpr T abs_value(const T& v) {
  return v < T{} ? -v : v;
}

/// Largest L1 norm over the rows: the worst-case gain of x -> M x for |x_i| <= 1.
template <class T, int R, int C>
constexpr T max_row_l1(const Matrix<T, R, C>& m) {
  T best{};
  for (int r = 0; r < R; ++r) {
    T sum{};
    for (int c = 0; c < C; ++c) sum += abs_value(m(r, c));
    if (best < sum) best = sum;
  }
  return best;
}

/// True when every entry is 0, +1 or -1.
template <class T, int R, int C>
constexpr bool is_ternary(const Matrix<T, R, C>& m) {
  for (const T& v : m.data)
    if (!(v == T{0} || v == T{1} || v == T{-1})) return false;
  return true;
}

/// Least common multiple of the denominators of a rational matrix.
template <int R, int C>
constexpr std::int64_t common_denominator(const Matrix<Rational, R, C>& m) {
  std::int64_t d = 1;
  for (const Rational& v : m.data) d = detail::lcm_i64(d, v.den());
  return d;
}

}  // namespace sfc
