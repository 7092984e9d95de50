// expect: COMPILES
// Control case for the must-not-compile harness: the umbrella header alone must
// build cleanly with the project's warning flags. If this case fails, the other
// compile_fail results mean nothing.
#include <sfc/sfc.hpp>

int main() { return 0; }
