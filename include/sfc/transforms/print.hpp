#pragma once
// Printing transform algorithms: for a person (describe) and for tools (to_json).
//
// Everything printed is read from the algorithm type's constexpr members, so
// the report, the kernels and the tests share one source of coefficients:
//
//   std::cout << sfc::describe<sfc::SFC<6, 7, 3>>();   // multi-line report
//   std::cout << sfc::to_json<sfc::Winograd<4, 3>>();  // one JSON object, one line
//
// Both work for any algorithm type with the SFC / Winograd vocabulary (M, R,
// L, T, BT, G, AT, groups, counts, growth, nested_2d); SFC-only members
// (N, window offset, corrections, the symbolic 2D form) are detected with
// `requires` and printed when present. Exact numbers stay exact: a rational
// is written "p/q" (in JSON as the string "p/q", integers as JSON integers).
//
// The only per-algorithm template is summarize<Alg>(), which copies the
// constexpr facts into a run-time AlgorithmSummary; the formatting itself is
// ordinary inline code, compiled once however many algorithms are printed.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <locale>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sfc/algebra/cyclotomic.hpp"
#include "sfc/algebra/matrix.hpp"
#include "sfc/algebra/polynomial.hpp"
#include "sfc/algebra/rational.hpp"
#include "sfc/transforms/bilinear.hpp"
#include "sfc/transforms/bounds.hpp"
#include "sfc/transforms/form2d.hpp"

namespace sfc {

// ---------------------------------------------------------------------------
// Detection of the optional (SFC-only) members.
// ---------------------------------------------------------------------------

/// Algorithms built on an N-point symbolic Fourier transform (SFC).
template <class Alg>
concept HasTransformLength = requires {
  { Alg::N } -> std::convertible_to<int>;
};

/// Algorithms with a cyclic window and correction terms (SFC).
template <class Alg>
concept HasCorrections = requires {
  { Alg::window_offset } -> std::convertible_to<int>;
  Alg::corrections.size();
  Alg::corrections[0].output;
  Alg::corrections[0].tap;
  Alg::corrections[0].plus;
  Alg::corrections[0].minus;
};

// ---------------------------------------------------------------------------
// Numbers, polynomials, matrices.
// ---------------------------------------------------------------------------

/// "3", "-1/6".
inline std::string to_string(const Rational& r) {
  std::string s = std::to_string(r.num());
  if (!r.is_integer()) {
    s += '/';
    s += std::to_string(r.den());
  }
  return s;
}

/// Highest degree first: "z^2 - z + 1", "z + 1", "0".
inline std::string to_string(const Polynomial& p, char var = 'z') {
  const int deg = p.degree();
  if (deg < 0) return "0";
  std::string s;
  for (int i = deg; i >= 0; --i) {
    const std::int64_t c = p[i];
    if (c == 0) continue;
    const std::int64_t mag = c < 0 ? -c : c;
    if (s.empty()) {
      if (c < 0) s += "-";
    } else {
      s += c < 0 ? " - " : " + ";
    }
    if (mag != 1 || i == 0) s += std::to_string(mag);
    if (i >= 1) s += var;
    if (i >= 2) {
      s += '^';
      s += std::to_string(i);
    }
  }
  return s;
}

namespace detail {

template <class T>
std::string format_entry(const T& v) {
  if constexpr (std::is_same_v<T, Rational>) {
    return to_string(v);
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(v);
  } else {
    static_assert(std::is_floating_point_v<T>, "sfc::format_matrix: unsupported entry type");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
    return buf;
  }
}

/// Right-justified columns: cells (row-major, rows x cols), one "[ ... ]"
/// row per line, each line starting with `indent` and ending with a newline.
inline std::string format_cells(int rows, int cols, const std::vector<std::string>& cells,
                                std::string_view indent) {
  const auto at = [cols](int r, int c) {
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) +
           static_cast<std::size_t>(c);
  };
  std::vector<std::size_t> width(static_cast<std::size_t>(cols), 0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      auto& w = width[static_cast<std::size_t>(c)];
      if (cells[at(r, c)].size() > w) w = cells[at(r, c)].size();
    }
  std::string s;
  for (int r = 0; r < rows; ++r) {
    s += indent;
    s += "[";
    for (int c = 0; c < cols; ++c) {
      const std::string& cell = cells[at(r, c)];
      s += c ? "  " : " ";
      s.append(width[static_cast<std::size_t>(c)] - cell.size(), ' ');
      s += cell;
    }
    s += " ]\n";
  }
  return s;
}

/// num / den rounded half up to `decimals` places, for num >= 0 and den > 0,
/// in exact integer arithmetic: format_ratio(441, 132, 2) == "3.34".
inline std::string format_ratio(std::int64_t num, std::int64_t den, int decimals) {
  if (num < 0 || den <= 0 || decimals < 0 || decimals > 6)
    throw std::domain_error("sfc::format_ratio: expects num >= 0, den > 0, 0..6 decimals");
  std::int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  const std::int64_t scaled =
      (checked_mul_i64(checked_mul_i64(num, scale), 2) + den) / checked_mul_i64(den, 2);
  std::string frac = std::to_string(scaled % scale);
  while (static_cast<int>(frac.size()) < decimals) frac.insert(frac.begin(), '0');
  std::string out = std::to_string(scaled / scale);
  if (decimals > 0) {
    out += '.';
    out += frac;
  }
  return out;
}

inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

/// An exact number as JSON: an integer, or the string "p/q".
inline std::string json_number(const Rational& r) {
  return r.is_integer() ? std::to_string(r.num()) : json_string(to_string(r));
}

/// Row-major array of arrays of exact numbers.
inline std::string json_matrix(const DenseMatrix& m) {
  std::string s = "[";
  for (int r = 0; r < m.rows; ++r) {
    s += r ? ",[" : "[";
    for (int c = 0; c < m.cols; ++c) {
      if (c) s += ",";
      s += json_number(m(r, c));
    }
    s += "]";
  }
  return s + "]";
}

inline std::string plural(std::int64_t n, std::string_view one, std::string_view many) {
  std::string s = std::to_string(n);
  s += ' ';
  s += n == 1 ? one : many;
  return s;
}

inline std::string signed_unit(int s) { return s < 0 ? "-1" : "+1"; }

template <int R, int C>
DenseMatrix to_dense(const Matrix<Rational, R, C>& m) {
  DenseMatrix d(R, C);
  d.data.assign(m.data.begin(), m.data.end());
  return d;
}

}  // namespace detail

/// The matrix with aligned (right-justified) columns, one "[ ... ]" row per
/// line, each line starting with `indent` and ending with a newline.
template <class T, int R, int C>
std::string format_matrix(const Matrix<T, R, C>& m, std::string_view indent = "") {
  std::vector<std::string> cells;
  cells.reserve(m.data.size());
  for (const T& v : m.data) cells.push_back(detail::format_entry(v));
  return detail::format_cells(R, C, cells, indent);
}

/// format_matrix for a dynamically sized rational matrix.
inline std::string format_matrix(const DenseMatrix& m, std::string_view indent = "") {
  std::vector<std::string> cells;
  cells.reserve(m.data.size());
  for (const Rational& v : m.data) cells.push_back(to_string(v));
  return detail::format_cells(m.rows, m.cols, cells, indent);
}

/// den * m as an integer matrix; throws std::domain_error when den * m has a
/// non-integer entry (den is not a common denominator of m).
template <int R, int C>
constexpr Matrix<std::int64_t, R, C> scaled_to_integer(const Matrix<Rational, R, C>& m,
                                                       std::int64_t den) {
  Matrix<std::int64_t, R, C> out;
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      const Rational v = m(r, c) * Rational(den);
      if (!v.is_integer())
        throw std::domain_error("sfc::scaled_to_integer: not a common denominator");
      out(r, c) = v.num();
    }
  return out;
}

/// den * m for a dense matrix, entries still held as (integer) rationals.
inline DenseMatrix scaled_to_integer(const DenseMatrix& m, std::int64_t den) {
  DenseMatrix out(m.rows, m.cols);
  for (std::size_t i = 0; i < m.data.size(); ++i) {
    out.data[i] = m.data[i] * Rational(den);
    if (!out.data[i].is_integer())
      throw std::domain_error("sfc::scaled_to_integer: not a common denominator");
  }
  return out;
}

/// The correction term as a formula: "y[0] += (x[0] - x[6]) * w[0]", or
/// "y[i] += x[a] * w[k]" when the wrapped position lies outside the tile.
template <class C>
std::string format_correction(const C& c) {
  std::ostringstream os;
  os.imbue(std::locale::classic());
  os << "y[" << c.output << "] += ";
  if (c.minus < 0)
    os << "x[" << c.plus << "]";
  else
    os << "(x[" << c.plus << "] - x[" << c.minus << "])";
  os << " * w[" << c.tap << "]";
  return os.str();
}

// ---------------------------------------------------------------------------
// AlgorithmSummary: the printable facts of one algorithm, at run time.
// ---------------------------------------------------------------------------

/// Everything describe() and to_json() print, copied out of an algorithm
/// type by summarize<Alg>(). Fields marked "SFC" are meaningful only when
/// is_sfc (they stay 0 / empty for Winograd).
struct AlgorithmSummary {
  struct CorrectionTerm {
    int output = 0, tap = 0, plus = 0, minus = -1;  ///< minus == -1: outside the tile
  };

  std::string name;          ///< "sfc6_7_3"
  std::string display_name;  ///< "SFC-6(7x7, 3x3)"
  bool is_sfc = false;       ///< has N, a window and corrections
  int N = 0;                 ///< SFC: transform length
  int M = 0, R = 0, L = 0, T = 0;
  int window_offset = 0;                    ///< SFC
  std::vector<CorrectionTerm> corrections;  ///< SFC
  DenseMatrix BT{0, 0}, G{0, 0}, AT{0, 0};
  std::int64_t AT_denominator = 1;
  std::vector<MultBlock> groups;

  int mults_2d_nested = 0;
  int mults_2d_symbolic = 0;  ///< SFC
  int mults_2d_direct = 0;
  bool symbolic_2d = false;  ///< the 2D numbers below are for the symbolic form (else nested)
  int split_pairs_2d = 0;    ///< symbolic form: split quadratic pair blocks
  int mults_2d = 0;          ///< multiplications of that 2D form
  std::int64_t AT_denominator_2d = 1;

  Rational data_growth_1d, weight_growth_1d;
  Rational data_growth_2d, weight_growth_2d, product_growth_2d;
  std::int64_t int8_data_bound = 0, int8_weight_bound = 0, int8_product_bound = 0;
  std::int64_t int32_channel_limit = 0;
};

/// The summary of algorithm type Alg (SFC or Winograd). The 2D facts refer
/// to preferred_2d_t<Alg>: the symbolic form for SFC, nested for Winograd.
template <class Alg>
AlgorithmSummary summarize() {
  using A2 = preferred_2d_t<Alg>;
  AlgorithmSummary s;
  s.name = Alg::name();
  s.display_name = Alg::display_name();
  s.M = Alg::M;
  s.R = Alg::R;
  s.L = Alg::L;
  s.T = Alg::T;
  if constexpr (HasTransformLength<Alg>) s.N = Alg::N;
  if constexpr (HasCorrections<Alg>) {
    s.is_sfc = true;
    s.window_offset = Alg::window_offset;
    for (const auto& c : Alg::corrections)
      s.corrections.push_back({c.output, c.tap, c.plus, c.minus});
  }
  s.BT = detail::to_dense(Alg::BT);
  s.G = detail::to_dense(Alg::G);
  s.AT = detail::to_dense(Alg::AT);
  s.AT_denominator = Alg::AT_denominator;
  s.groups.assign(Alg::groups.begin(), Alg::groups.end());

  s.mults_2d_nested = Alg::mults_2d_nested;
  s.mults_2d_direct = Alg::mults_2d_direct;
  if constexpr (HasSymbolic2D<Alg>) {
    s.mults_2d_symbolic = Alg::mults_2d_symbolic;
    s.symbolic_2d = true;
    s.split_pairs_2d = A2::num_split_pairs;
  }
  s.mults_2d = A2::T;
  s.AT_denominator_2d = A2::AT_denominator;

  s.data_growth_1d = Alg::data_growth_1d;
  s.weight_growth_1d = Alg::weight_growth_1d;
  s.data_growth_2d = A2::data_growth;
  s.weight_growth_2d = A2::weight_growth;
  s.product_growth_2d = A2::product_growth;
  s.int8_data_bound = int8_data_bound<A2>();
  s.int8_weight_bound = int8_weight_bound<A2>();
  s.int8_product_bound = int8_product_bound<A2>();
  s.int32_channel_limit = int32_channel_limit<A2>();
  return s;
}

// ---------------------------------------------------------------------------
// describe: the report for a person.
// ---------------------------------------------------------------------------

/// A multi-line report: sizes, window and corrections (SFC), BT, G, AT (as
/// "1/den x" an integer matrix), multiplication groups, multiplication counts
/// in 1D and 2D, growth bounds and their int8 consequences (bounds.hpp).
inline std::string describe(const AlgorithmSummary& a) {
  const std::string form = a.symbolic_2d ? "symbolic" : "nested";
  const auto q = [](const Rational& r) { return to_string(r); };
  std::ostringstream os;
  os.imbue(std::locale::classic());

  os << a.display_name << "  [" << a.name << "]\n";
  if (a.is_sfc)
    os << "  Symbolic Fourier convolution: " << a.N
       << "-point cyclic correlation over cyclotomic residues, plus correction products.\n";
  else
    os << "  Cook-Toom (Winograd) algorithm: evaluation at " << a.L
       << " points, the last at infinity.\n";

  os << "\nSizes (1D):";
  if (a.is_sfc) os << " N = " << a.N << ",";
  os << " M = " << a.M << " outputs, R = " << a.R << " taps, L = " << a.L << " inputs, T = " << a.T
     << " multiplications\n";

  if (a.is_sfc) {
    const int o = a.window_offset;
    os << "\nWindow: the cyclic part reads x[" << o << " .. " << o + a.N << ")";
    if (o < 0 || o + a.N > a.L) os << " (positions outside [0, " << a.L << ") read zero)";
    os << "; window offset " << o << "\n";
    os << "Corrections: " << a.corrections.size() << "\n";
    for (const auto& c : a.corrections) os << "  " << format_correction(c) << "\n";
  }

  os << "\nBT (data transform, " << a.T << " x " << a.L << "):\n" << format_matrix(a.BT, "  ");
  os << "G (weight transform, " << a.T << " x " << a.R << "):\n" << format_matrix(a.G, "  ");
  os << "AT (output transform, " << a.M << " x " << a.T << ")";
  if (a.AT_denominator > 1)
    os << " = 1/" << a.AT_denominator << " x\n"
       << format_matrix(scaled_to_integer(a.AT, a.AT_denominator), "  ");
  else
    os << ":\n" << format_matrix(a.AT, "  ");

  os << "\nMultiplication groups (1D):\n";
  {
    int singles = 0;
    std::vector<std::string> heads;
    std::vector<std::string> tails;
    for (const MultBlock& b : a.groups) {
      if (b.factor == 0) {
        ++singles;
        continue;
      }
      std::ostringstream h;
      h << "Phi_" << b.factor << "(z) = " << to_string(cyclotomic(b.factor));
      heads.push_back(h.str());
      std::ostringstream t;
      t << detail::plural(b.size, "coefficient", "coefficients") << ", "
        << detail::plural(b.products, "product", "products");
      if (b.num_signs == 1) {
        t << ", Karatsuba sign " << detail::signed_unit(b.signs[0]);
      } else if (b.num_signs > 1) {
        t << ", Karatsuba signs (";
        for (int i = 0; i < b.num_signs; ++i)
          t << (i ? ", " : "") << detail::signed_unit(b.signs[static_cast<std::size_t>(i)]);
        t << ")";
      }
      tails.push_back(t.str());
    }
    std::size_t w = 0;
    for (const auto& h : heads) w = h.size() > w ? h.size() : w;
    for (std::size_t i = 0; i < heads.size(); ++i)
      os << "  " << heads[i] << std::string(w - heads[i].size() + 2, ' ') << tails[i] << "\n";
    if (singles > 0)
      os << "  " << detail::plural(singles, "single product", "single products")
         << (a.is_sfc ? " (one per correction)\n" : " (one per evaluation point)\n");
  }

  os << "\nMultiplications:\n";
  os << "  1D: " << a.T << " per tile of " << a.M << " outputs (direct " << a.M * a.R << ")\n";
  os << "  2D: nested " << a.mults_2d_nested;
  if (a.symbolic_2d)
    os << ", symbolic " << a.mults_2d_symbolic << " ("
       << detail::plural(a.split_pairs_2d, "split pair block", "split pair blocks") << ")";
  os << ", direct " << a.mults_2d_direct << " per " << a.M << "x" << a.M << " tile\n";
  os << "  reduction direct / " << form << ": "
     << detail::format_ratio(a.mults_2d_direct, a.mults_2d, 2) << "x\n";
  os << "  2D output denominator (" << form << "): " << a.AT_denominator_2d << "\n";

  os << "\nGrowth (max row L1 norm: worst-case gain for inputs of magnitude <= 1):\n";
  os << "  1D: data " << q(a.data_growth_1d) << ", weight " << q(a.weight_growth_1d) << "\n";
  os << "  2D (" << form << "): data " << q(a.data_growth_2d) << ", weight "
     << q(a.weight_growth_2d) << ", product " << q(a.product_growth_2d) << "\n";

  const auto fits = [](std::int64_t v) {
    return v <= kInt16Max ? " (fits int16)" : " (needs int32)";
  };
  const auto rounded = [](const Rational& g) {
    return (g * kInt8MaxMagnitude).is_integer() ? "" : " (rounded up)";
  };
  os << "\nint8 (|x|, |w| <= " << kInt8MaxMagnitude << "):\n";
  os << "  max |transformed data|   = " << q(a.data_growth_2d) << " * 128 = " << a.int8_data_bound
     << rounded(a.data_growth_2d) << fits(a.int8_data_bound) << "\n";
  os << "  max |transformed weight| = " << q(a.weight_growth_2d)
     << " * 128 = " << a.int8_weight_bound << rounded(a.weight_growth_2d)
     << fits(a.int8_weight_bound) << "\n";
  os << "  max |product|            = " << q(a.product_growth_2d)
     << " * 128 * 128 = " << a.int8_product_bound << "\n";
  os << "  int32 accumulation: at most " << a.int32_channel_limit
     << " input channels before widening\n";
  return os.str();
}

/// describe(summarize<Alg>()).
template <class Alg>
std::string describe() {
  return describe(summarize<Alg>());
}

/// describe<Alg>() for a tag, as passed by for_each_default_algorithm.
template <class Alg>
std::string describe(std::type_identity<Alg>) {
  return describe<Alg>();
}

// ---------------------------------------------------------------------------
// to_json: one object on one line.
// ---------------------------------------------------------------------------

/// One JSON object on one line (no trailing newline). Keys, in order: name,
/// display_name, N (SFC only), M, R, L, T, window_offset (SFC only), BT, G,
/// AT (row-major arrays; exact numbers as integers or "p/q" strings),
/// AT_denominator, corrections ({output, tap, plus, minus}; minus is null
/// outside the tile; empty for Winograd), mults_1d, mults_2d_nested,
/// mults_2d_symbolic (SFC only), mults_2d_direct, form_2d ("symbolic" or
/// "nested": the form the remaining 2D numbers refer to), AT_denominator_2d,
/// growth {data_1d, weight_1d, data_2d, weight_2d, product_2d}, int8
/// {data_bound, weight_bound, product_bound, data_fits_int16,
/// weight_fits_int16, int32_channel_limit}.
inline std::string to_json(const AlgorithmSummary& a) {
  using detail::json_matrix;
  using detail::json_number;
  using detail::json_string;
  std::ostringstream os;
  os.imbue(std::locale::classic());
  // key(k) writes ,"k": (the first key of an object is written by hand).
  const auto key = [&os](std::string_view k) -> std::ostream& {
    return os << ',' << json_string(k) << ':';
  };
  const auto boolean = [](bool b) { return b ? "true" : "false"; };

  os << '{' << json_string("name") << ':' << json_string(a.name);
  key("display_name") << json_string(a.display_name);
  if (a.is_sfc) key("N") << a.N;
  key("M") << a.M;
  key("R") << a.R;
  key("L") << a.L;
  key("T") << a.T;
  if (a.is_sfc) key("window_offset") << a.window_offset;
  key("BT") << json_matrix(a.BT);
  key("G") << json_matrix(a.G);
  key("AT") << json_matrix(a.AT);
  key("AT_denominator") << a.AT_denominator;
  key("corrections") << '[';
  for (std::size_t i = 0; i < a.corrections.size(); ++i) {
    const auto& c = a.corrections[i];
    os << (i ? ",{" : "{") << json_string("output") << ':' << c.output;
    key("tap") << c.tap;
    key("plus") << c.plus;
    key("minus");
    if (c.minus < 0)
      os << "null";
    else
      os << c.minus;
    os << '}';
  }
  os << ']';
  key("mults_1d") << a.T;
  key("mults_2d_nested") << a.mults_2d_nested;
  if (a.is_sfc) key("mults_2d_symbolic") << a.mults_2d_symbolic;
  key("mults_2d_direct") << a.mults_2d_direct;
  key("form_2d") << json_string(a.symbolic_2d ? "symbolic" : "nested");
  key("AT_denominator_2d") << a.AT_denominator_2d;
  key("growth") << '{' << json_string("data_1d") << ':' << json_number(a.data_growth_1d);
  key("weight_1d") << json_number(a.weight_growth_1d);
  key("data_2d") << json_number(a.data_growth_2d);
  key("weight_2d") << json_number(a.weight_growth_2d);
  key("product_2d") << json_number(a.product_growth_2d) << '}';
  key("int8") << '{' << json_string("data_bound") << ':' << a.int8_data_bound;
  key("weight_bound") << a.int8_weight_bound;
  key("product_bound") << a.int8_product_bound;
  key("data_fits_int16") << boolean(a.int8_data_bound <= kInt16Max);
  key("weight_fits_int16") << boolean(a.int8_weight_bound <= kInt16Max);
  key("int32_channel_limit") << a.int32_channel_limit << '}';
  os << '}';
  return os.str();
}

/// to_json(summarize<Alg>()).
template <class Alg>
std::string to_json() {
  return to_json(summarize<Alg>());
}

/// to_json<Alg>() for a tag, as passed by for_each_default_algorithm.
template <class Alg>
std::string to_json(std::type_identity<Alg>) {
  return to_json<Alg>();
}

}  // namespace sfc
