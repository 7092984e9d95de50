// Printing (describe, to_json), the int8 bounds and the algorithm catalog.

#include <gtest/gtest.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sfc/transforms/bounds.hpp"
#include "sfc/transforms/catalog.hpp"
#include "sfc/transforms/print.hpp"

namespace {

using sfc::Rational;

// ---- DESIGN.md 1.4: int8 bounds, decided at compile time. ----
static_assert(sfc::int8_data_bound<sfc::sfc6_7_3::symbolic_2d>() == 4608);
static_assert(sfc::int8_weight_bound<sfc::sfc6_7_3::symbolic_2d>() == 1152);
// floor((2^31 - 1) / (4608 * 1152)) = 404.
static_assert(sfc::int32_channel_limit<sfc::sfc6_7_3::symbolic_2d>() == 404);
static_assert(sfc::int8_data_bound<sfc::sfc6_6_3::symbolic_2d>() == 4608);
static_assert(sfc::int32_channel_limit<sfc::sfc6_6_3::symbolic_2d>() == 404);
static_assert(sfc::int8_weight_bound<sfc::sfc6_6_5::symbolic_2d>() == 3200);
static_assert(sfc::int32_channel_limit<sfc::sfc6_6_5::symbolic_2d>() == 145);
static_assert(sfc::int8_weight_bound<sfc::sfc6_4_7::symbolic_2d>() == 6272);
static_assert(sfc::int32_channel_limit<sfc::sfc6_4_7::symbolic_2d>() == 74);
static_assert(sfc::int8_data_bound<sfc::sfc4_4_3::symbolic_2d>() == 2048);
static_assert(sfc::int8_data_fits_int16<sfc::sfc6_7_3::symbolic_2d>());
static_assert(sfc::int8_weight_fits_int16<sfc::sfc6_4_7::symbolic_2d>());

// ---------------------------------------------------------------------------
// A tiny JSON reader (RFC 8259 grammar, no \u escapes decoded), enough to
// check that to_json writes one well-formed object and to look values up.
// ---------------------------------------------------------------------------
struct Json {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  std::string text;                  // number, string (unescaped), "true"/"false"
  std::vector<Json> items;           // array
  std::map<std::string, Json> keys;  // object
  std::vector<std::string> order;    // object keys in order of appearance

  const Json& operator[](const std::string& k) const { return keys.at(k); }
  const Json& operator[](std::size_t i) const { return items.at(i); }
  bool has(const std::string& k) const { return keys.count(k) != 0; }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  // Parses the whole input as one value; false (with error()) when malformed.
  bool parse(Json& out) {
    skip_ws();
    if (!value(out)) return false;
    skip_ws();
    return pos_ == s_.size() || fail("trailing characters");
  }
  const std::string& error() const { return error_; }

 private:
  bool fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(pos_);
    return false;
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return fail("bad literal");
    pos_ += word.size();
    return true;
  }
  bool value(Json& v) {
    skip_ws();
    if (pos_ >= s_.size()) return fail("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return object(v);
    if (c == '[') return array(v);
    if (c == '"') {
      v.kind = Json::string;
      return string(v.text);
    }
    if (c == 't' || c == 'f') {
      v.kind = Json::boolean;
      v.text = c == 't' ? "true" : "false";
      return literal(v.text);
    }
    if (c == 'n') {
      v.kind = Json::null;
      return literal("null");
    }
    return number(v);
  }
  bool number(Json& v) {
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    const auto digits = [&] {
      const std::size_t d = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      return pos_ > d;
    };
    if (!digits()) return fail("bad number");
    if (s_[start] == '0' || (s_[start] == '-' && s_[start + 1] == '0'))
      if (pos_ - start > (s_[start] == '-' ? 2u : 1u)) return fail("leading zero");
    if (pos_ < s_.size() && s_[pos_] == '.' && (++pos_, !digits())) return fail("bad fraction");
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return fail("bad exponent");
    }
    v.kind = Json::number;
    v.text = std::string(s_.substr(start, pos_ - start));
    return true;
  }
  bool string(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size() && s_[pos_] != '"') {
      const char c = s_[pos_++];
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c == '\\') {
        if (pos_ >= s_.size()) return fail("bad escape");
        const char e = s_[pos_++];
        if (e == 'u') {
          if (pos_ + 4 > s_.size()) return fail("bad \\u escape");
          pos_ += 4;
          out += '?';
        } else if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
          out += e;
        } else {
          return fail("bad escape");
        }
      } else {
        out += c;
      }
    }
    if (pos_ >= s_.size()) return fail("unterminated string");
    ++pos_;
    return true;
  }
  bool array(Json& v) {
    v.kind = Json::array;
    ++pos_;
    if (eat(']')) return true;
    do {
      v.items.emplace_back();
      if (!value(v.items.back())) return false;
    } while (eat(','));
    return eat(']') || fail("expected ']'");
  }
  bool object(Json& v) {
    v.kind = Json::object;
    ++pos_;
    if (eat('}')) return true;
    do {
      skip_ws();
      std::string k;
      if (pos_ >= s_.size() || s_[pos_] != '"' || !string(k)) return fail("expected key");
      if (v.keys.count(k)) return fail(std::string("duplicate key ") + k);
      if (!eat(':')) return fail("expected ':'");
      if (!value(v.keys[k])) return false;
      v.order.push_back(k);
    } while (eat(','));
    return eat('}') || fail("expected '}'");
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string error_;
};

Json parse_json(const std::string& s) {
  Json j;
  JsonReader reader(s);
  EXPECT_TRUE(reader.parse(j)) << reader.error() << "\n" << s;
  return j;
}

// An exact number as to_json writes it: a JSON integer, or the string "p/q".
Rational json_rational(const Json& v) {
  if (v.kind == Json::number) return Rational(std::stoll(v.text));
  EXPECT_EQ(v.kind, Json::string);
  const std::size_t slash = v.text.find('/');
  EXPECT_NE(slash, std::string::npos) << v.text;
  return Rational(std::stoll(v.text.substr(0, slash)), std::stoll(v.text.substr(slash + 1)));
}

// The JSON matrix equals m entry by entry (integers as JSON integers).
void expect_json_matrix(const Json& j, const sfc::DenseMatrix& m, const char* what) {
  ASSERT_EQ(j.kind, Json::array) << what;
  ASSERT_EQ(j.items.size(), static_cast<std::size_t>(m.rows)) << what;
  for (int r = 0; r < m.rows; ++r) {
    ASSERT_EQ(j[static_cast<std::size_t>(r)].items.size(), static_cast<std::size_t>(m.cols))
        << what;
    for (int c = 0; c < m.cols; ++c) {
      const Json& e = j[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
      if (m(r, c).is_integer()) {
        EXPECT_EQ(e.kind, Json::number) << what << "(" << r << ", " << c << ")";
      }
      EXPECT_EQ(json_rational(e), m(r, c)) << what << "(" << r << ", " << c << ")";
    }
  }
}

// The JSON line says what the summary says (a plain function, so that
// checking every default algorithm costs no per-algorithm compile time).
void expect_json_matches(const sfc::AlgorithmSummary& a, const std::string& line) {
  SCOPED_TRACE(a.name);
  const auto str = [](std::int64_t v) { return std::to_string(v); };
  EXPECT_EQ(line.find('\n'), std::string::npos) << "to_json must write one line";
  const Json j = parse_json(line);
  ASSERT_EQ(j.kind, Json::object);
  EXPECT_EQ(j.order.front(), "name");
  EXPECT_EQ(j["name"].text, a.name);
  EXPECT_EQ(j["display_name"].text, a.display_name);
  EXPECT_EQ(j["M"].text, str(a.M));
  EXPECT_EQ(j["R"].text, str(a.R));
  EXPECT_EQ(j["L"].text, str(a.L));
  EXPECT_EQ(j["T"].text, str(a.T));
  EXPECT_EQ(j["mults_1d"].text, str(a.T));
  expect_json_matrix(j["BT"], a.BT, "BT");
  expect_json_matrix(j["G"], a.G, "G");
  expect_json_matrix(j["AT"], a.AT, "AT");
  EXPECT_EQ(j["AT_denominator"].text, str(a.AT_denominator));
  EXPECT_EQ(j["mults_2d_nested"].text, str(a.mults_2d_nested));
  EXPECT_EQ(j["mults_2d_direct"].text, str(a.mults_2d_direct));
  EXPECT_EQ(j["AT_denominator_2d"].text, str(a.AT_denominator_2d));
  const Json& g = j["growth"];
  EXPECT_EQ(json_rational(g["data_1d"]), a.data_growth_1d);
  EXPECT_EQ(json_rational(g["weight_1d"]), a.weight_growth_1d);
  EXPECT_EQ(json_rational(g["data_2d"]), a.data_growth_2d);
  EXPECT_EQ(json_rational(g["weight_2d"]), a.weight_growth_2d);
  EXPECT_EQ(json_rational(g["product_2d"]), a.product_growth_2d);
  const Json& q = j["int8"];
  EXPECT_EQ(q["data_bound"].text, str(a.int8_data_bound));
  EXPECT_EQ(q["weight_bound"].text, str(a.int8_weight_bound));
  EXPECT_EQ(q["product_bound"].text, str(a.int8_product_bound));
  EXPECT_EQ(q["data_fits_int16"].text, a.int8_data_bound <= 32767 ? "true" : "false");
  EXPECT_EQ(q["weight_fits_int16"].text, a.int8_weight_bound <= 32767 ? "true" : "false");
  EXPECT_EQ(q["int32_channel_limit"].text, str(a.int32_channel_limit));
  const Json& corr = j["corrections"];
  ASSERT_EQ(corr.kind, Json::array);
  ASSERT_EQ(corr.items.size(), a.corrections.size());
  for (std::size_t i = 0; i < corr.items.size(); ++i) {
    const auto& c = a.corrections[i];
    EXPECT_EQ(corr[i]["output"].text, str(c.output));
    EXPECT_EQ(corr[i]["tap"].text, str(c.tap));
    EXPECT_EQ(corr[i]["plus"].text, str(c.plus));
    if (c.minus < 0) {
      EXPECT_EQ(corr[i]["minus"].kind, Json::null);
    } else {
      EXPECT_EQ(corr[i]["minus"].text, str(c.minus));
    }
  }
  if (a.is_sfc) {
    EXPECT_EQ(j["N"].text, str(a.N));
    EXPECT_EQ(j["window_offset"].text, str(a.window_offset));
    EXPECT_EQ(j["mults_2d_symbolic"].text, str(a.mults_2d_symbolic));
    EXPECT_EQ(j["form_2d"].text, "symbolic");
  } else {
    EXPECT_FALSE(j.has("N"));
    EXPECT_FALSE(j.has("window_offset"));
    EXPECT_FALSE(j.has("mults_2d_symbolic"));
    EXPECT_EQ(j["form_2d"].text, "nested");
    EXPECT_TRUE(corr.items.empty());
  }
}

// The summary copies the algorithm type's constexpr members faithfully.
template <class Alg>
void expect_summary_matches() {
  SCOPED_TRACE(Alg::name());
  using A2 = sfc::preferred_2d_t<Alg>;
  const sfc::AlgorithmSummary a = sfc::summarize<Alg>();
  EXPECT_EQ(a.name, Alg::name());
  EXPECT_EQ(a.display_name, Alg::display_name());
  EXPECT_EQ(a.M, Alg::M);
  EXPECT_EQ(a.R, Alg::R);
  EXPECT_EQ(a.L, Alg::L);
  EXPECT_EQ(a.T, Alg::T);
  ASSERT_EQ(a.BT.rows, Alg::T);
  ASSERT_EQ(a.BT.cols, Alg::L);
  ASSERT_EQ(a.AT.rows, Alg::M);
  ASSERT_EQ(a.AT.cols, Alg::T);
  ASSERT_EQ(a.G.cols, Alg::R);
  for (int t = 0; t < Alg::T; ++t) {
    for (int c = 0; c < Alg::L; ++c) EXPECT_EQ(a.BT(t, c), Alg::BT(t, c));
    for (int c = 0; c < Alg::R; ++c) EXPECT_EQ(a.G(t, c), Alg::G(t, c));
    for (int i = 0; i < Alg::M; ++i) EXPECT_EQ(a.AT(i, t), Alg::AT(i, t));
  }
  EXPECT_EQ(a.AT_denominator, Alg::AT_denominator);
  EXPECT_EQ(a.groups.size(), Alg::groups.size());
  EXPECT_EQ(a.mults_2d_nested, Alg::mults_2d_nested);
  EXPECT_EQ(a.mults_2d_direct, Alg::mults_2d_direct);
  EXPECT_EQ(a.mults_2d, A2::T);
  EXPECT_EQ(a.AT_denominator_2d, A2::AT_denominator);
  EXPECT_EQ(a.data_growth_1d, Alg::data_growth_1d);
  EXPECT_EQ(a.weight_growth_1d, Alg::weight_growth_1d);
  EXPECT_EQ(a.data_growth_2d, A2::data_growth);
  EXPECT_EQ(a.weight_growth_2d, A2::weight_growth);
  EXPECT_EQ(a.product_growth_2d, A2::product_growth);
  EXPECT_EQ(a.int8_data_bound, sfc::int8_data_bound<A2>());
  EXPECT_EQ(a.int8_weight_bound, sfc::int8_weight_bound<A2>());
  EXPECT_EQ(a.int32_channel_limit, sfc::int32_channel_limit<A2>());
  if constexpr (sfc::HasCorrections<Alg>) {
    EXPECT_TRUE(a.is_sfc);
    EXPECT_EQ(a.N, Alg::N);
    EXPECT_EQ(a.window_offset, Alg::window_offset);
    EXPECT_EQ(a.mults_2d_symbolic, Alg::mults_2d_symbolic);
    EXPECT_TRUE(a.symbolic_2d);
    ASSERT_EQ(a.corrections.size(), Alg::corrections.size());
    for (std::size_t i = 0; i < a.corrections.size(); ++i) {
      EXPECT_EQ(a.corrections[i].output, Alg::corrections[i].output);
      EXPECT_EQ(a.corrections[i].tap, Alg::corrections[i].tap);
      EXPECT_EQ(a.corrections[i].plus, Alg::corrections[i].plus);
      EXPECT_EQ(a.corrections[i].minus, Alg::corrections[i].minus);
    }
  } else {
    EXPECT_FALSE(a.is_sfc);
    EXPECT_FALSE(a.symbolic_2d);
    EXPECT_TRUE(a.corrections.empty());
  }
}

// ---------------------------------------------------------------------------
// Numbers, polynomials, matrices.
// ---------------------------------------------------------------------------

TEST(Print, RationalToString) {
  EXPECT_EQ(sfc::to_string(Rational(3)), "3");
  EXPECT_EQ(sfc::to_string(Rational(-1, 6)), "-1/6");
  EXPECT_EQ(sfc::to_string(Rational(2, -4)), "-1/2");
  EXPECT_EQ(sfc::to_string(Rational(0, 7)), "0");
  EXPECT_EQ(sfc::to_string(Rational(-3)), "-3");
  EXPECT_EQ(sfc::to_string(Rational(9, 4)), "9/4");
}

TEST(Print, PolynomialToString) {
  EXPECT_EQ(sfc::to_string(sfc::cyclotomic(1)), "z - 1");
  EXPECT_EQ(sfc::to_string(sfc::cyclotomic(3)), "z^2 + z + 1");
  EXPECT_EQ(sfc::to_string(sfc::cyclotomic(6)), "z^2 - z + 1");
  EXPECT_EQ(sfc::to_string(sfc::cyclotomic(4), 'x'), "x^2 + 1");
  EXPECT_EQ(sfc::to_string(sfc::Polynomial{}), "0");
  EXPECT_EQ(sfc::to_string(sfc::Polynomial::monomial(-2, 3) + sfc::Polynomial::monomial(-1, 0)),
            "-2z^3 - 1");
}

TEST(Print, FormatMatrixAlignsColumns) {
  sfc::Matrix<Rational, 2, 2> m;
  m(0, 0) = 1;
  m(0, 1) = Rational(-1, 6);
  m(1, 0) = 10;
  m(1, 1) = 0;
  EXPECT_EQ(sfc::format_matrix(m), "[  1  -1/6 ]\n[ 10     0 ]\n");
  EXPECT_EQ(sfc::format_matrix(m, "  "), "  [  1  -1/6 ]\n  [ 10     0 ]\n");
  sfc::Matrix<int, 1, 3> n;
  n(0, 0) = -1;
  n(0, 2) = 7;
  EXPECT_EQ(sfc::format_matrix(n), "[ -1  0  7 ]\n");
}

TEST(Print, ScaledToIntegerRejectsAWrongDenominator) {
  using A = sfc::sfc6_7_3;
  const auto at = sfc::scaled_to_integer(A::AT, A::AT_denominator);
  for (int i = 0; i < A::M; ++i)
    for (int t = 0; t < A::T; ++t) EXPECT_EQ(Rational(at(i, t)), A::AT(i, t) * A::AT_denominator);
  EXPECT_THROW((void)sfc::scaled_to_integer(A::AT, 2), std::domain_error);
}

TEST(Print, FormatRatioRoundsExactly) {
  EXPECT_EQ(sfc::detail::format_ratio(441, 132, 2), "3.34");
  EXPECT_EQ(sfc::detail::format_ratio(144, 46, 2), "3.13");
  EXPECT_EQ(sfc::detail::format_ratio(144, 36, 2), "4.00");
  EXPECT_EQ(sfc::detail::format_ratio(1, 200, 2), "0.01");  // 0.005 rounds up
  EXPECT_EQ(sfc::detail::format_ratio(2, 3, 0), "1");
}

TEST(Print, CorrectionFormulas) {
  EXPECT_EQ(sfc::format_correction(sfc::Correction{0, 0, 0, 6}), "y[0] += (x[0] - x[6]) * w[0]");
  EXPECT_EQ(sfc::format_correction(sfc::Correction{1, 2, 3, -1}), "y[1] += x[3] * w[2]");
}

// ---------------------------------------------------------------------------
// describe
// ---------------------------------------------------------------------------

TEST(Describe, Sfc6_7_3ShowsTheDesignCorrections) {
  const std::string d = sfc::describe<sfc::SFC<6, 7, 3>>();
  // DESIGN.md 1.3: (x0-x6)w0, (x7-x1)w2, (x7-x1)w1, (x8-x2)w2.
  EXPECT_NE(d.find("y[0] += (x[0] - x[6]) * w[0]"), std::string::npos) << d;
  EXPECT_NE(d.find("y[5] += (x[7] - x[1]) * w[2]"), std::string::npos) << d;
  EXPECT_NE(d.find("y[6] += (x[7] - x[1]) * w[1]"), std::string::npos) << d;
  EXPECT_NE(d.find("y[6] += (x[8] - x[2]) * w[2]"), std::string::npos) << d;
  for (const char* s :
       {"SFC-6(7x7, 3x3)", "sfc6_7_3", "N = 6", "T = 12", "window offset 1", "1/6 x",
        "Phi_3(z) = z^2 + z + 1", "Phi_6(z) = z^2 - z + 1", "4 single products", "nested 144",
        "symbolic 132", "direct 441", "3.34x", "denominator (symbolic): 36", "= 4608 (fits int16)",
        "= 1152 (fits int16)", "at most 404 input channels"}) {
    EXPECT_NE(d.find(s), std::string::npos) << "missing \"" << s << "\" in\n" << d;
  }
}

TEST(Describe, WinogradHasNoWindowAndReportsTheNestedForm) {
  const std::string d = sfc::describe(std::type_identity<sfc::wino4_3>{});
  EXPECT_EQ(d.find("Window"), std::string::npos) << d;
  EXPECT_EQ(d.find("symbolic"), std::string::npos) << d;
  for (const char* s :
       {"Winograd F(4x4, 3x3)", "wino4_3", "T = 6", "6 single products", "nested 36", "direct 144",
        "reduction direct / nested: 4.00x", "at most 1310 input channels"}) {
    EXPECT_NE(d.find(s), std::string::npos) << "missing \"" << s << "\" in\n" << d;
  }
  // F(2x2, 3x3): G has halves; its 2D weight growth 9/4 gives exactly 288.
  const std::string d2 = sfc::describe<sfc::wino2_3>();
  EXPECT_NE(d2.find("9/4 * 128 = 288 (fits int16)"), std::string::npos) << d2;
}

// ---------------------------------------------------------------------------
// to_json
// ---------------------------------------------------------------------------

TEST(ToJson, Sfc6_7_3) {
  const std::string s = sfc::to_json<sfc::sfc6_7_3>();
  for (const char* sub :
       {"{\"name\":\"sfc6_7_3\",", "\"display_name\":\"SFC-6(7x7, 3x3)\"", "\"N\":6", "\"T\":12",
        "\"window_offset\":1", "\"AT_denominator\":6", "\"mults_2d_symbolic\":132",
        "\"mults_2d_nested\":144", "\"mults_2d_direct\":441",
        "{\"output\":0,\"tap\":0,\"plus\":0,\"minus\":6}", "\"data_bound\":4608",
        "\"weight_bound\":1152", "\"int32_channel_limit\":404", "\"AT_denominator_2d\":36",
        "\"-1/6\""}) {
    EXPECT_NE(s.find(sub), std::string::npos) << "missing " << sub << " in\n" << s;
  }
  // Brackets and braces balance outside strings.
  int depth = 0;
  bool in_string = false;
  for (const char c : s) {
    if (c == '"') in_string = !in_string;
    if (in_string) continue;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ASSERT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);
  EXPECT_FALSE(in_string);
  expect_json_matches(sfc::summarize<sfc::sfc6_7_3>(), s);
}

TEST(ToJson, WinogradOmitsTheSfcMembersAndWritesFractionsAsStrings) {
  const std::string s = sfc::to_json<sfc::wino2_3>();
  expect_json_matches(sfc::summarize<sfc::wino2_3>(), s);
  const Json j = parse_json(s);
  EXPECT_EQ(j["growth"]["weight_2d"].kind, Json::string);
  EXPECT_EQ(j["growth"]["weight_2d"].text, "9/4");
  EXPECT_EQ(j["int8"]["weight_bound"].text, "288");
  EXPECT_EQ(j["G"][1][0].text, "1/2");
}

TEST(ToJson, EveryDefaultAlgorithmWritesConsistentJson) {
  std::vector<sfc::AlgorithmSummary> all;
  sfc::for_each_default_algorithm(
      [&](auto tag) { all.push_back(sfc::summarize<typename decltype(tag)::type>()); });
  ASSERT_EQ(all.size(), 10u);
  for (const sfc::AlgorithmSummary& a : all) {
    expect_json_matches(a, sfc::to_json(a));
    const std::string d = sfc::describe(a);
    EXPECT_NE(d.find(a.display_name), std::string::npos);
    const std::string limit =
        std::string("at most ") + std::to_string(a.int32_channel_limit) + " input channels";
    EXPECT_NE(d.find(limit), std::string::npos) << d;
  }
}

TEST(Summary, CopiesTheAlgorithmFaithfully) {
  expect_summary_matches<sfc::sfc6_7_3>();
  expect_summary_matches<sfc::sfc6_4_7>();
  expect_summary_matches<sfc::wino2_3>();
}

// ---------------------------------------------------------------------------
// Bounds
// ---------------------------------------------------------------------------

TEST(Bounds, DesignNumbers) {
  // The static_asserts at the top are the real check; these print the values.
  EXPECT_EQ(sfc::int8_data_bound<sfc::sfc6_7_3::symbolic_2d>(), 4608);
  EXPECT_EQ(sfc::int8_weight_bound<sfc::sfc6_7_3::symbolic_2d>(), 1152);
  EXPECT_EQ(sfc::int32_channel_limit<sfc::sfc6_7_3::symbolic_2d>(), 404);
  EXPECT_EQ(sfc::int8_weight_bound<sfc::sfc6_6_5::symbolic_2d>(), 3200);
  EXPECT_EQ(sfc::int32_channel_limit<sfc::sfc6_6_5::symbolic_2d>(), 145);
  EXPECT_EQ(sfc::int8_weight_bound<sfc::sfc6_4_7::symbolic_2d>(), 6272);
  EXPECT_EQ(sfc::int32_channel_limit<sfc::sfc6_4_7::symbolic_2d>(), 74);
  EXPECT_EQ(sfc::int8_data_bound<sfc::sfc4_4_3::symbolic_2d>(), 2048);
  EXPECT_EQ(sfc::int8_product_bound<sfc::sfc6_7_3::symbolic_2d>(), 4608 * 1152);
}

// Growth bounds with fractions, as Winograd's weight transform has.
struct FractionalGrowth {
  static constexpr Rational data_growth = Rational(1, 3);     // 128/3  = 42.67
  static constexpr Rational weight_growth = Rational(5, 7);   // 640/7  = 91.43
  static constexpr Rational product_growth = Rational(2, 3);  // 32768/3 per product
};

TEST(Bounds, FractionalGrowthRoundsTowardSafety) {
  static_assert(sfc::int8_data_bound<FractionalGrowth>() == 43);
  static_assert(sfc::int8_weight_bound<FractionalGrowth>() == 92);
  static_assert(sfc::int8_product_bound<FractionalGrowth>() == 10923);
  // floor((2^31 - 1) * 3 / 32768) = floor(196607.99990...)
  static_assert(sfc::int32_channel_limit<FractionalGrowth>() == 196607);
  EXPECT_EQ(sfc::detail::ceil_rational(Rational(-7, 2)), -3);
  EXPECT_EQ(sfc::detail::floor_rational(Rational(-7, 2)), -4);
  EXPECT_EQ(sfc::detail::ceil_rational(Rational(7, 2)), 4);
  EXPECT_EQ(sfc::detail::floor_rational(Rational(7, 2)), 3);
  EXPECT_EQ(sfc::detail::ceil_rational(Rational(3)), 3);
}

TEST(Bounds, PreferredFormIsSymbolicForSfcAndNestedForWinograd) {
  static_assert(std::is_same_v<sfc::preferred_2d_t<sfc::sfc6_7_3>, sfc::sfc6_7_3::symbolic_2d>);
  static_assert(std::is_same_v<sfc::preferred_2d_t<sfc::wino4_3>, sfc::wino4_3::nested_2d>);
  static_assert(sfc::HasCorrections<sfc::sfc4_4_3> && !sfc::HasCorrections<sfc::wino4_3>);
  SUCCEED();
}

// ---------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------

TEST(Catalog, NamesInOrder) {
  const std::vector<std::string> expected = {"sfc4_4_3", "sfc6_6_3", "sfc6_7_3", "sfc6_6_5",
                                             "sfc6_4_7", "wino2_3",  "wino3_3",  "wino4_3",
                                             "wino2_5",  "wino2_7"};
  EXPECT_EQ(sfc::default_algorithm_names(), expected);
  EXPECT_EQ(sfc::sfc6_4_7::name(), "sfc6_4_7");
  EXPECT_EQ(sfc::wino2_7::name(), "wino2_7");
}

TEST(Catalog, VisitFindsKnownNamesOnly) {
  std::vector<std::string> seen;
  const auto record = [&](auto tag) { seen.push_back(decltype(tag)::type::display_name()); };
  EXPECT_TRUE(sfc::visit_algorithm("sfc6_7_3", record));
  EXPECT_TRUE(sfc::visit_algorithm("wino4_3", record));
  EXPECT_FALSE(sfc::visit_algorithm("sfc6_7_4", record));
  EXPECT_FALSE(sfc::visit_algorithm("", record));
  EXPECT_FALSE(sfc::visit_algorithm("SFC6_7_3", record));
  const std::vector<std::string> expected = {"SFC-6(7x7, 3x3)", "Winograd F(4x4, 3x3)"};
  EXPECT_EQ(seen, expected);
}

}  // namespace
