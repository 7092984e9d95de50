// expect: satisfaction of [^<]*WinogradPointsAvailable<M_, R_>.*with M_ = 12. R_ = 7|because 'WinogradPointsAvailable<12, 7>' evaluated to false
// Winograd F(12, 7) needs 12 + 7 - 1 = 18 interpolation points; only 16 are
// available (WinogradPointsAvailable), so the type is rejected.
#include <sfc/transforms/winograd.hpp>

int main() { return sfc::Winograd<12, 7>::T; }
