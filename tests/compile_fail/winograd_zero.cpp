// expect: satisfaction of [^<]*WinogradPointsAvailable<M_, R_>.*with M_ = 0. R_ = 3|because 'WinogradPointsAvailable<0, 3>' evaluated to false
// Winograd F(0, 3) has no outputs: WinogradPointsAvailable requires M >= 1.
#include <sfc/transforms/winograd.hpp>

int main() { return sfc::Winograd<0, 3>::T; }
