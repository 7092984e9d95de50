// Built by an outside project against the installed (or add_subdirectory'd)
// SFC. Exits 0 only if the headers are found and usable as a consumer sees them.
#include <sfc/sfc.hpp>
#include <sfc/version.hpp>

// sfc::sfc must carry C++20 to its users (target_compile_features).
static_assert(__cplusplus >= 202002L, "sfc::sfc must propagate C++20");

int main() { return SFC_VERSION_MAJOR == 0 ? 0 : 1; }
