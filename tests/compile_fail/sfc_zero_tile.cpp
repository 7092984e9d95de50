// expect: satisfaction of [^<]*PositiveTileSize<M_>.*with M_ = 0|because 0 does not satisfy 'PositiveTileSize'
// An SFC tile must produce at least one output: PositiveTileSize rejects M = 0.
#include <sfc/transforms/sfc.hpp>

int main() { return sfc::SFC<6, 0, 3>::T; }
