#pragma once
// The named default algorithms: the SFC variants of DESIGN.md 1.3 and the
// Winograd algorithms we compare against, as one type list.
//
//   sfc::for_each_default_algorithm([](auto tag) {
//     using Alg = typename decltype(tag)::type;   // tag is std::type_identity<Alg>
//     std::cout << Alg::name() << '\n';
//   });
//   sfc::visit_algorithm("sfc6_7_3", [](auto tag) { ... });  // false: unknown name
//
// Every algorithm here is generated (and proven exact) at compile time, which
// costs a few seconds per SFC instantiation: include this header only where
// the whole list is wanted (tools, examples, tests), not in kernels.

#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

namespace sfc {

// Names follow Alg::name(): sfc<N>_<M>_<R> and wino<M>_<R>.
using sfc4_4_3 = SFC<4, 4, 3>;   ///< SFC-4(4x4, 3x3)
using sfc6_6_3 = SFC<6, 6, 3>;   ///< SFC-6(6x6, 3x3)
using sfc6_7_3 = SFC<6, 7, 3>;   ///< SFC-6(7x7, 3x3): tiles 224, 112, ..., 7 without waste
using sfc6_6_5 = SFC<6, 6, 5>;   ///< SFC-6(6x6, 5x5)
using sfc6_4_7 = SFC<6, 4, 7>;   ///< SFC-6(4x4, 7x7), kernel folded modulo 6
using wino2_3 = Winograd<2, 3>;  ///< Winograd F(2x2, 3x3)
using wino3_3 = Winograd<3, 3>;  ///< Winograd F(3x3, 3x3)
using wino4_3 = Winograd<4, 3>;  ///< Winograd F(4x4, 3x3)
using wino2_5 = Winograd<2, 5>;  ///< Winograd F(2x2, 5x5)
using wino2_7 = Winograd<2, 7>;  ///< Winograd F(2x2, 7x7)

/// The default algorithms, SFC first, in the order they are listed and described.
using default_algorithms = std::tuple<sfc4_4_3, sfc6_6_3, sfc6_7_3, sfc6_6_5, sfc6_4_7,  //
                                      wino2_3, wino3_3, wino4_3, wino2_5, wino2_7>;

namespace detail {

template <class F, class... Algs>
void for_each_algorithm_in(F&& f, std::type_identity<std::tuple<Algs...>>) {
  (f(std::type_identity<Algs>{}), ...);
}

}  // namespace detail

/// Calls f(std::type_identity<Alg>{}) for every Alg of default_algorithms, in order.
template <class F>
void for_each_default_algorithm(F&& f) {
  detail::for_each_algorithm_in(f, std::type_identity<default_algorithms>{});
}

/// The machine names of the default algorithms, in order ("sfc4_4_3", ...).
/// (A template only so that merely including this header instantiates none
/// of the algorithms; call it as default_algorithm_names().)
template <class List = default_algorithms>
std::vector<std::string> default_algorithm_names() {
  std::vector<std::string> names;
  names.reserve(std::tuple_size_v<List>);
  detail::for_each_algorithm_in([&](auto tag) { names.push_back(decltype(tag)::type::name()); },
                                std::type_identity<List>{});
  return names;
}

/// Calls f(std::type_identity<Alg>{}) for the default algorithm whose name()
/// is `name` and returns true; returns false (and calls nothing) when no
/// default algorithm has that name.
template <class F>
bool visit_algorithm(std::string_view name, F&& f) {
  bool found = false;
  for_each_default_algorithm([&](auto tag) {
    if (!found && decltype(tag)::type::name() == name) {
      found = true;
      f(tag);
    }
  });
  return found;
}

}  // namespace sfc
