// expect: satisfaction of [^<]*SymbolicFourierLength<N_>.*with N_ = 5|because 5 does not satisfy 'SymbolicFourierLength'
// SFC<N, M, R> needs a transform length N whose cyclotomic factors all have
// ternary Karatsuba forms (2, 3, 4, 6, 8, 12). Phi_5 has degree 4 but no
// such form is generated, so N = 5 is rejected by the SymbolicFourierLength
// concept with a readable message instead of a deep constexpr failure.
#include <sfc/transforms/sfc.hpp>

int main() { return sfc::SFC<5, 4, 3>::T; }
