#pragma once
/// \file
/// The AMX target: the AVX-512 target with the quantized int8 GEMM
/// (kernels/gemm_q8.hpp) on AMX tiles (`tdpbusd`: a 16 x 64 block of
/// unsigned data codes times a 64 x 16 block of signed weight codes, 16384
/// multiply-adds per instruction, against 64 for `vpdpbusd`). Everything
/// else (vector operations, transforms, the exact int16 kernels) is the
/// AVX-512 target's. Defined when the compiler targets AVX-512 and AMX-TILE
/// and AMX-INT8 (e.g. -march=native on a Xeon with AMX).
///
/// AMX needs the operating system's consent: Linux hands the tile state to
/// a process that asks for it (arch_prctl ARCH_REQ_XCOMP_PERM, kernel 5.16
/// or later). `Amx::tiles_enabled()` asks once per process; where the CPU or
/// the system says no, or the program turns the tiles off
/// (`Amx::use_tiles(false)`), the GEMM runs the AVX-512 VNNI kernel instead,
/// with the same (exact integer) results.
///
/// The tile configuration (five 16-row tiles) is loaded by the first GEMM
/// call of a thread and checked on every call (`sttilecfg`, ~12 ns here,
/// against ~100 ns for `ldtilecfg`), so code that configures the tiles
/// differently between calls (oneDNN's AMX kernels, say) is harmless. The
/// tile state stays in use after a call.

#include "sfc/kernels/simd/avx512.hpp"

// GCC spells the feature macros __AMX_TILE__ and __AMX_INT8__, Clang 14
// __AMXTILE__ and __AMXINT8__.
#if defined(SFC_SIMD_HAS_AVX512) && (defined(__AMX_TILE__) || defined(__AMXTILE__)) && \
    (defined(__AMX_INT8__) || defined(__AMXINT8__)) && defined(__AVX512BW__) &&        \
    defined(__AVX512DQ__) && defined(__AVX512VNNI__)
#define SFC_SIMD_HAS_AMX 1

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "sfc/kernels/static_for.hpp"

namespace sfc::simd {

struct Amx : Avx512 {
  static constexpr const char* name = "amx";
  /// Rows (tiles) of one AMX block; the operator's blocks are multiples.
  static constexpr int q8_gemm_rows = 16;

  /// Whether this process may use the AMX tiles (CPU and operating
  /// system), asked once.
  static bool tiles_enabled() noexcept {
    static const bool enabled = request_tiles();
    return enabled;
  }

  /// Whether q8_gemm uses the tiles (when enabled): true unless a program
  /// turns them off, e.g. to compare with the VNNI path in the same build.
  /// Takes effect for the calls that start after it.
  static void use_tiles(bool on) noexcept { tiles_wanted().store(on, std::memory_order_relaxed); }
  static bool using_tiles() noexcept {
    return tiles_wanted().load(std::memory_order_relaxed) && tiles_enabled();
  }

  /// C = dequantized A * B for one slot and one panel, as kernels::q8_gemm
  /// describes: blocks of 16 rows on the tiles, input channels 64 at a
  /// time (a last partial step through zero-padded copies).
  static void q8_gemm(int rows, int quads, const std::int8_t* a, std::ptrdiff_t lda,
                      const std::int8_t* panel, const std::int32_t* init, const float* scale,
                      float* c, std::ptrdiff_t ldc) noexcept {
    // Rows beyond the last whole tile block (all of them without tiles)
    // run the AVX-512 VNNI kernel: a tile block with few rows computes
    // mostly padding (measured: batch-1 layers of 1-4 tiles ran 1.2x
    // slower on tiles).
    const int tiled = using_tiles() ? rows / 16 * 16 : 0;
    kernels::for_each_row_block<Avx512::q8_gemm_rows>(rows - tiled, [&](auto block_rows, int m) {
      Avx512::q8_block<decltype(block_rows)::value>(quads, a + (tiled + m) * lda, lda, panel, init,
                                                    scale, c + (tiled + m) * ldc, ldc);
    });
    if (tiled == 0) return;
    configure();
    constexpr int kStep = 16;  // quads per tdpbusd (64 input channels)
    const int whole = quads / kStep * kStep;
    // The last channel step when quads is not a multiple of kStep: its
    // codes and weights zero-padded to a whole step.
    alignas(64) std::int8_t a_tail[16][64];
    alignas(64) std::int8_t b_tail[kStep][q8_panel * 4];
    alignas(64) std::int32_t sums[16][q8_panel];
    if (whole < quads) {
      std::memset(a_tail, 0, sizeof a_tail);
      std::memset(b_tail, 0, sizeof b_tail);
      std::memcpy(b_tail, panel + static_cast<std::ptrdiff_t>(whole) * q8_panel * 4,
                  static_cast<std::size_t>(quads - whole) * q8_panel * 4);
    }
    const __m512i init0 = _mm512_loadu_si512(init), init1 = _mm512_loadu_si512(init + 16);
    const __m512 s0 = _mm512_loadu_ps(scale), s1 = _mm512_loadu_ps(scale + 16);
    for (int m = 0; m < tiled; m += 16) {
      const std::int8_t* am = a + m * lda;
      _tile_zero(0);
      _tile_zero(1);
      for (int k = 0; k < whole; k += kStep) {
        const std::int8_t* b = panel + static_cast<std::ptrdiff_t>(k) * q8_panel * 4;
        _tile_loadd(2, am + 4 * k, lda);
        _tile_loadd(3, b, q8_panel * 4);
        _tile_loadd(4, b + 64, q8_panel * 4);
        _tile_dpbusd(0, 2, 3);
        _tile_dpbusd(1, 2, 4);
      }
      if (whole < quads) {
        for (int r = 0; r < 16; ++r)
          std::memcpy(a_tail[r], am + r * lda + 4 * whole,
                      static_cast<std::size_t>(4 * (quads - whole)));
        _tile_loadd(2, a_tail, 64);
        _tile_loadd(3, b_tail, q8_panel * 4);
        _tile_loadd(4, &b_tail[0][64], q8_panel * 4);
        _tile_dpbusd(0, 2, 3);
        _tile_dpbusd(1, 2, 4);
      }
      _tile_stored(0, &sums[0][0], q8_panel * 4);
      _tile_stored(1, &sums[0][16], q8_panel * 4);
      for (int r = 0; r < 16; ++r)
        store_dequantized(c + (m + r) * ldc, _mm512_add_epi32(_mm512_load_si512(sums[r]), init0),
                          _mm512_add_epi32(_mm512_load_si512(sums[r] + 16), init1), s0, s1);
    }
  }

 private:
  /// The 64-byte operand of ldtilecfg / sttilecfg (palette 1).
  struct alignas(64) TileConfig {
    std::uint8_t palette = 0;
    std::uint8_t start_row = 0;
    std::uint8_t reserved[14] = {};
    std::uint16_t bytes_per_row[16] = {};
    std::uint8_t rows[16] = {};
  };
  static_assert(sizeof(TileConfig) == 64);

  /// Tiles 0-1: int32 sums (16 rows x 16 output channels); 2: data codes
  /// (16 rows x 64 channels); 3-4: weight codes (16 channel quads x 16
  /// output channels x 4).
  static TileConfig wanted() noexcept {
    TileConfig t;
    t.palette = 1;
    for (int i = 0; i < 5; ++i) {
      t.bytes_per_row[i] = 64;
      t.rows[i] = 16;
    }
    return t;
  }

  static void configure() noexcept {
    static const TileConfig want = wanted();
    TileConfig now;
    _tile_storeconfig(&now);
    if (std::memcmp(&now, &want, sizeof now) != 0) _tile_loadconfig(&want);
  }

  static std::atomic<bool>& tiles_wanted() noexcept {
    static std::atomic<bool> wanted{true};
    return wanted;
  }

  static bool request_tiles() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!supports_q8() || __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
    const bool tile = (edx >> 24) & 1u, int8 = (edx >> 25) & 1u;
    if (!tile || !int8) return false;
#if defined(__linux__)
    constexpr long kReqXcompPerm = 0x1023;  // ARCH_REQ_XCOMP_PERM
    constexpr long kXtileData = 18;         // XFEATURE_XTILEDATA
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
#else
    return false;
#endif
  }
};

}  // namespace sfc::simd

#endif
