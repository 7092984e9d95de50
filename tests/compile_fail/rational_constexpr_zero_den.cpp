// expect: is not a constant expression.*sfc::Rational: zero denominator|must be initialized by a constant expression.*in call to 'Rational\(1, 0\)'
// A zero denominator in a constant expression reaches the throw in the
// Rational constructor, so the constexpr variable below is ill-formed (at run
// time the same constructor throws std::domain_error).
#include <sfc/algebra/rational.hpp>

constexpr sfc::Rational x(1, 0);

int main() { return static_cast<int>(x.den()); }
