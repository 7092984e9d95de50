// expect: satisfaction of [^<]*SymbolicFourierLength<N_>.*with N_ = -6|because -6 does not satisfy 'SymbolicFourierLength'
// A negative transform length is not a SymbolicFourierLength (the concept is
// checked before any generator code runs, so nothing divides by -6).
#include <sfc/transforms/sfc.hpp>

int main() { return sfc::SFC<-6, 4, 3>::T; }
