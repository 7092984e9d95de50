// expect: satisfaction of [^<]*PositiveKernelSize<R_>.*with R_ = 0|because 0 does not satisfy 'PositiveKernelSize'
// A kernel must have at least one tap: PositiveKernelSize rejects R = 0.
#include <sfc/transforms/sfc.hpp>

int main() { return sfc::SFC<6, 4, 0>::T; }
