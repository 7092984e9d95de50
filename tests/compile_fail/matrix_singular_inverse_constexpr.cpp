// expect: is not a constant expression.*sfc::inverse: singular matrix|must be initialized by a constant expression.*in call to 'inverse\(singular\)'
// Inverting a singular matrix in a constant expression reaches the throw in
// sfc::inverse, so the constexpr variable below is ill-formed: a transform
// generator can never silently produce coefficients from a singular system.
// The third row is the sum of the first two, so the singularity appears only
// during elimination.
#include <sfc/algebra/matrix.hpp>
#include <sfc/algebra/rational.hpp>

constexpr sfc::Matrix<sfc::Rational, 3, 3> singular{{1, 2, 3, 0, 1, 4, 1, 3, 7}};
constexpr auto inverse = sfc::inverse(singular);

int main() { return static_cast<int>(inverse(0, 0).den()); }
