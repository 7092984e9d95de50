#pragma once
/// \file
/// Threading for SFC operators: OpenMP when the program is compiled with it
/// (`-fopenmp`; the CMake target `sfc::sfc` adds it when SFC_OPENMP is ON),
/// otherwise a single thread. Operators take a thread count per call
/// (`RunOptions::threads`); 0 means "what OpenMP would use"
/// (omp_get_max_threads(), i.e. OMP_NUM_THREADS or the core count).
///
/// Small problems use fewer threads than requested (see useful_threads).
/// Work is split into items whose results are computed by the same sequence
/// of operations whichever thread runs them, so results never depend on the
/// thread count.

#include <algorithm>
#include <cstdint>
#include <string>

#include "sfc/core/error.hpp"

#if defined(_OPENMP)
#include <omp.h>
/// `SFC_OMP(omp for)` expands to `#pragma omp for` when OpenMP is enabled and
/// to nothing otherwise (so builds without OpenMP see no unknown pragmas).
#define SFC_OMP(directive) _Pragma(#directive)
#else
#define SFC_OMP(directive)
#endif

namespace sfc {

/// Per-call execution options of an operator.
struct RunOptions {
  /// Threads to use: 0 = OpenMP's default (omp_get_max_threads()), n >= 1 =
  /// at most n. Without OpenMP every value runs on the calling thread.
  int threads = 0;
};

namespace detail {

/// The thread count a call will use; throws sfc::Error for a negative request.
inline int resolve_threads(int requested, const char* who) {
  if (requested < 0) {
    throw Error(std::string(who) + ": RunOptions::threads must be >= 0, got " +
                std::to_string(requested));
  }
#if defined(_OPENMP)
  return requested == 0 ? omp_get_max_threads() : requested;
#else
  (void)requested;
  return 1;
#endif
}

/// Direct-convolution multiply-accumulates per thread below which another
/// thread costs more (start-up, barriers) than it saves.
inline constexpr std::int64_t kMinMacsPerThread = std::int64_t{1} << 21;

/// `threads`, reduced so that every thread gets at least kMinMacsPerThread of
/// `macs` (and at least one thread).
inline int useful_threads(int threads, std::int64_t macs) {
  const std::int64_t useful = std::max<std::int64_t>(1, macs / kMinMacsPerThread);
  return static_cast<int>(std::min<std::int64_t>(threads, useful));
}

}  // namespace detail

}  // namespace sfc
