// expect: call to non-.*constexpr.* function .*sfc::detail::rational_overflow|non-constexpr function 'rational_overflow' cannot be used in a constant expression
// Exact rationals never wrap: in a constant expression, INT64_MAX + 1 reaches
// sfc::detail::rational_overflow(), which is not constexpr, so the constexpr
// variable below is ill-formed (at run time the same call throws
// std::overflow_error).
#include <cstdint>
#include <sfc/algebra/rational.hpp>

constexpr sfc::Rational x = sfc::Rational(INT64_MAX) + 1;

int main() { return static_cast<int>(x.den()); }
