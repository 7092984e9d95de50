// Example 01: inspect the transforms.
//
// An algorithm is a type, and everything about it is computed at compile time
// from its template parameters: the data, weight and output transforms
// (BT, G, AT), the correction terms that let SFC use the "wasted" cyclic
// outputs, the multiplication counts in 1D and 2D, and the worst-case growth
// of int8 values through the transforms (does the transformed data fit int16?
// how many input channels can an int32 accumulator take?). This program prints
// that report for a person, or as one JSON line for tools.
//
//   01_inspect_transforms                  describe SFC-6(7x7, 3x3)
//   01_inspect_transforms NAME             describe one algorithm (e.g. wino4_3)
//   01_inspect_transforms --json NAME      the same as one JSON object
//   01_inspect_transforms --list           the known names
//   01_inspect_transforms --all            describe every default algorithm
//
// Before printing, it checks what it prints: AT times the printed denominator
// is an integer matrix, and the report carries the algorithm's name and its
// int32 channel limit. It exits with 1 when a check fails, 2 on bad usage.

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "sfc/transforms/bounds.hpp"
#include "sfc/transforms/catalog.hpp"
#include "sfc/transforms/print.hpp"

namespace {

// The int8 bounds of the headline algorithm, decided at compile time (DESIGN.md 1.4).
using Headline2D = sfc::sfc6_7_3::symbolic_2d;
static_assert(sfc::int8_data_fits_int16<Headline2D>(), "SFC-6 data must fit int16");
static_assert(sfc::int8_weight_fits_int16<Headline2D>(), "SFC-6 3x3 weights must fit int16");

constexpr std::string_view kDefaultAlgorithm = "sfc6_7_3";

// Checks on an algorithm before its report is trusted; prints what failed.
template <class Alg>
bool self_check(const std::string& report) {
  bool ok = true;
  for (int i = 0; i < Alg::M; ++i)
    for (int t = 0; t < Alg::T; ++t)
      if (!(Alg::AT(i, t) * sfc::Rational(Alg::AT_denominator)).is_integer()) {
        std::cerr << Alg::name() << ": AT(" << i << ", " << t << ") * " << Alg::AT_denominator
                  << " is not an integer\n";
        ok = false;
      }
  const std::string limit = std::to_string(sfc::int32_channel_limit<sfc::preferred_2d_t<Alg>>());
  if (report.find(Alg::display_name()) == std::string::npos ||
      report.find(std::string("at most ") + limit + " input channels") == std::string::npos) {
    std::cerr << Alg::name() << ": the report lacks its name or its channel limit\n";
    ok = false;
  }
  return ok;
}

std::string known_names() {
  std::string s;
  for (const std::string& n : sfc::default_algorithm_names()) {
    if (!s.empty()) s += ", ";
    s += n;
  }
  return s;
}

// Prints the report (or JSON) of algorithm `name`; 0, 1 (check failed) or 2 (unknown name).
int show(std::string_view name, bool json) {
  int status = 0;
  const bool known = sfc::visit_algorithm(name, [&](auto tag) {
    using Alg = typename decltype(tag)::type;
    const sfc::AlgorithmSummary summary = sfc::summarize<Alg>();
    const std::string report = sfc::describe(summary);
    if (!self_check<Alg>(report)) status = 1;
    std::cout << (json ? sfc::to_json(summary) + "\n" : report);
  });
  if (!known) {
    std::cerr << "unknown algorithm '" << name << "'; known: " << known_names() << "\n";
    return 2;
  }
  return status;
}

int usage() {
  std::cerr << "usage: 01_inspect_transforms [NAME | --json NAME | --list | --all]\n"
            << "known algorithms: " << known_names() << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view a1 = argc > 1 ? argv[1] : "";
  if (argc == 1) return show(kDefaultAlgorithm, false);
  if (argc == 2 && a1 == "--list") {
    for (const std::string& n : sfc::default_algorithm_names()) std::cout << n << "\n";
    return 0;
  }
  if (argc == 2 && a1 == "--all") {
    int status = 0;
    bool first = true;
    for (const std::string& n : sfc::default_algorithm_names()) {
      if (!first) std::cout << "\n" << std::string(78, '-') << "\n\n";
      first = false;
      const int s = show(n, false);
      if (s != 0) status = s;
    }
    return status;
  }
  if (argc == 3 && a1 == "--json") return show(argv[2], true);
  if (argc == 2 && !a1.starts_with("-")) return show(a1, false);
  return usage();
}
