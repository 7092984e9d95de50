#pragma once
/// \file
/// The portable SIMD target: fixed-width vectors held as GNU vectors of 16
/// bytes (GCC and Clang lower them to whatever the build targets: SSE2,
/// NEON, or scalars), and plain-loop GEMM micro-kernels. Always available;
/// the reference point every other target must agree with.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "sfc/kernels/exact_divisor.hpp"

namespace sfc::simd {

namespace portable_detail {

/// N lanes of T as N * sizeof(T) / 16 GNU vectors of 16 bytes. Element-wise
/// operations expand over the parts at compile time, so values stay in
/// registers (arrays of scalars went through memory at -O1, slow to compile
/// and, under AddressSanitizer, to run). With an unsigned T the arithmetic
/// wraps, as the SIMD targets' does (Portable's int16 and int32 lanes).
template <class T, int N>
struct Lanes {
  typedef T Part __attribute__((vector_size(16)));
  static constexpr int per_part = static_cast<int>(16 / sizeof(T));
  static constexpr int parts = N / per_part;
  static_assert(parts * per_part == N);

  Part part[parts];

  T get(int i) const noexcept { return part[i / per_part][i % per_part]; }

  /// Lanes {f(0), ..., f(N - 1)}.
  template <class F>
  static Lanes generate(F&& f) noexcept {
    return from_parts(
        [&](auto k) { return make_part<k>(f, std::make_integer_sequence<int, per_part>{}); });
  }
  /// Lanes whose part k is f(a.part[k]) or f(a.part[k], b.part[k]).
  template <class F>
  static Lanes map(const Lanes& a, F&& f) noexcept {
    return from_parts([&](auto k) { return f(a.part[k]); });
  }
  template <class F>
  static Lanes map(const Lanes& a, const Lanes& b, F&& f) noexcept {
    return from_parts([&](auto k) { return f(a.part[k], b.part[k]); });
  }
  static Lanes load(const void* p) noexcept {
    Lanes r;
    std::memcpy(&r.part, p, sizeof r.part);
    return r;
  }
  void store(void* p) const noexcept { std::memcpy(p, &part, sizeof part); }

 private:
  /// Lanes whose part k is f(std::integral_constant<int, k>{}).
  template <class F>
  static Lanes from_parts(F&& f) noexcept {
    return from_parts(f, std::make_integer_sequence<int, parts>{});
  }
  template <class F, int... K>
  static Lanes from_parts(F& f, std::integer_sequence<int, K...>) noexcept {
    return Lanes{{f(std::integral_constant<int, K>{})...}};
  }
  template <int K, class F, int... J>
  static Part make_part(F& f, std::integer_sequence<int, J...>) noexcept {
    return Part{static_cast<T>(f(K * per_part + J))...};
  }
};

/// The same 16 bytes as a vector of signed lanes (to compare, or to shift
/// arithmetically).
template <class U>
auto as_signed(U v) noexcept {
  typedef std::make_signed_t<std::remove_cvref_t<decltype(v[0])>> S;
  typedef S Signed __attribute__((vector_size(16)));
  return std::bit_cast<Signed>(v);
}

}  // namespace portable_detail

/// Portable target. Lanes are plain floats; `fmadd` is a multiply followed by
/// an add (two roundings), so results may differ from the fused targets in
/// the last bit.
struct Portable {
  static constexpr const char* name = "portable";
  static constexpr int f32_lanes = 8;
  /// GEMM register block: rows x vectors of output columns.
  static constexpr int gemm_rows = 4;
  static constexpr int gemm_vectors = 2;
  /// Vector registers the kernels may plan for (nominal: the compiler
  /// decides where the vectors live).
  static constexpr int vector_registers = 16;

  using f32 = portable_detail::Lanes<float, f32_lanes>;

  static bool supported() noexcept { return true; }
  static constexpr bool has_int8_kernels = true;
  static bool supports_int8() noexcept { return true; }

  static f32 zero() noexcept { return f32{}; }
  static f32 broadcast(float x) noexcept {
    return f32::generate([x](int) { return x; });
  }
  static f32 load(const float* p) noexcept { return f32::load(p); }
  static void store(float* p, const f32& a) noexcept { a.store(p); }

  static f32 add(const f32& a, const f32& b) noexcept {
    return f32::map(a, b, [](auto x, auto y) { return x + y; });
  }
  static f32 sub(const f32& a, const f32& b) noexcept {
    return f32::map(a, b, [](auto x, auto y) { return x - y; });
  }
  static f32 mul(const f32& a, const f32& b) noexcept {
    return f32::map(a, b, [](auto x, auto y) { return x * y; });
  }
  static f32 neg(const f32& a) noexcept {
    return f32::map(a, [](auto x) { return -x; });
  }
  /// a * b + c.
  static f32 fmadd(const f32& a, const f32& b, const f32& c) noexcept { return add(mul(a, b), c); }
  /// v itself (the SIMD targets keep it in a register; see
  /// kernels/gemm_f32.hpp).
  static f32 in_register(const f32& v) noexcept { return v; }
  /// std::max per lane: a unless a < b (a NaN a stays).
  static f32 max(const f32& a, const f32& b) noexcept {
    return f32::map(a, b, [](auto x, auto y) { return x < y ? y : x; });
  }

  // Integers, for the int8 kernels. int16 arithmetic wraps (it is done in
  // uint16), as the SIMD targets' does: a transform whose final values fit
  // int16 is exact even if a partial sum wraps.
  static constexpr int i16_lanes = 16;
  static constexpr int i64_lanes = 8;
  static constexpr int s16_gemm_rows = 4;
  static constexpr int s16_panel = 16;  ///< output channels per packed int16 weight panel

  /// int16 lanes, held as uint16 (wrapping); read one as int16.
  using i16 = portable_detail::Lanes<std::uint16_t, i16_lanes>;
  using i64 = portable_detail::Lanes<std::int64_t, i64_lanes>;

  static i16 zero_i16() noexcept { return i16{}; }
  static i16 load_s8(const std::int8_t* p) noexcept {
    return i16::generate([p](int i) { return static_cast<std::uint16_t>(p[i]); });
  }
  static i16 load_u8(const std::uint8_t* p) noexcept {
    return i16::generate([p](int i) { return std::uint16_t{p[i]}; });
  }
  static void store_i16(std::int16_t* p, const i16& a) noexcept { a.store(p); }
  static i16 add_i16(const i16& a, const i16& b) noexcept {
    return i16::map(a, b, [](auto x, auto y) { return x + y; });
  }
  static i16 sub_i16(const i16& a, const i16& b) noexcept {
    return i16::map(a, b, [](auto x, auto y) { return x - y; });
  }
  static i16 neg_i16(const i16& a) noexcept { return sub_i16(zero_i16(), a); }
  static i16 mul_i16(std::int16_t c, const i16& a) noexcept {
    return i16::map(a, [c](auto x) { return x * static_cast<std::uint16_t>(c); });
  }

  static i64 zero_i64() noexcept { return i64{}; }
  static i64 load_i64(const std::int64_t* p) noexcept { return i64::load(p); }
  static void store_i64(std::int64_t* p, const i64& a) noexcept { a.store(p); }
  // int64 lanes never overflow in the exact kernels (their bounds).
  static i64 add_i64(const i64& a, const i64& b) noexcept {
    return i64::map(a, b, [](auto x, auto y) { return x + y; });
  }
  static i64 sub_i64(const i64& a, const i64& b) noexcept {
    return i64::map(a, b, [](auto x, auto y) { return x - y; });
  }
  static i64 neg_i64(const i64& a) noexcept { return sub_i64(zero_i64(), a); }
  static i64 mul_i64(std::int64_t c, const i64& a) noexcept {
    return i64::map(a, [c](auto x) { return x * c; });
  }
  static i64 max_i64(const i64& a, const i64& b) noexcept {
    return i64::map(a, b, [](auto x, auto y) { return x < y ? y : x; });
  }
  static i64 load_i32_as_i64(const std::int32_t* p) noexcept {
    return i64::generate([p](int i) { return std::int64_t{p[i]}; });
  }
  /// Stores the low 32 bits of every lane (the caller guarantees they fit).
  static void store_i64_as_i32(std::int32_t* p, const i64& a) noexcept {
    std::int64_t x[i64_lanes];
    a.store(x);
    for (int i = 0; i < i64_lanes; ++i) p[i] = static_cast<std::int32_t>(x[i]);
  }
  /// a / d for every lane, where every lane is a multiple of d (exact).
  static i64 exact_div_i64(const i64& a, std::int64_t d) noexcept {
    return i64::map(a, [d](auto x) { return x / d; });
  }

  // int32 lanes, for exact layers whose input channels split into groups
  // narrow enough that 2^s times each group's output fits int32 for every
  // input, s the power of two in the scale (ExactConv2d::
  // int32_product_channels): arithmetic modulo 2^32 (in uint32, as the SIMD
  // targets' wraps), then an exact division that recovers those outputs.
  /// Most int32 groups per layer (ExactConv2d::max_int32_groups), as AVX2.
  static constexpr int i32_max_groups = 2;
  static constexpr int i32_lanes = 8;
  /// int32 lanes, held as uint32 (wrapping).
  using i32 = portable_detail::Lanes<std::uint32_t, i32_lanes>;
  static i32 zero_i32() noexcept { return i32{}; }
  static i32 load_i32(const std::int32_t* p) noexcept { return i32::load(p); }
  static void store_i32(std::int32_t* p, const i32& a) noexcept { a.store(p); }
  /// As Avx512's: i16_lanes int16 values; acc + w[2j] * x0 + w[2j + 1] * x1
  /// in int32 lane j, wrapping, where `pair` holds the bytes of the two
  /// int16 values x0, x1 as they lie in memory (whatever the byte order).
  static i16 load_i16(const std::int16_t* p) noexcept { return i16::load(p); }
  static i32 dot_pairs_i32(const i32& acc, std::int32_t pair, const i16& w) noexcept {
    std::int16_t x[2];
    std::memcpy(x, &pair, sizeof x);
    const std::int32_t lo = x[0], hi = x[1];
    return i32::generate([&](int j) {
      const std::int32_t w0 = static_cast<std::int16_t>(w.get(2 * j));
      const std::int32_t w1 = static_cast<std::int16_t>(w.get(2 * j + 1));
      return acc.get(j) + static_cast<std::uint32_t>(lo * w0) + static_cast<std::uint32_t>(hi * w1);
    });
  }
  static i32 add_i32(const i32& a, const i32& b) noexcept {
    return i32::map(a, b, [](auto x, auto y) { return x + y; });
  }
  static i32 sub_i32(const i32& a, const i32& b) noexcept {
    return i32::map(a, b, [](auto x, auto y) { return x - y; });
  }
  static i32 neg_i32(const i32& a) noexcept { return sub_i32(zero_i32(), a); }
  static i32 mul_i32(std::int32_t c, const i32& a) noexcept {
    return i32::map(a, [c](auto x) { return x * static_cast<std::uint32_t>(c); });
  }
  /// Signed maximum.
  static i32 max_i32(const i32& a, const i32& b) noexcept {
    return i32::map(a, b, [](auto x, auto y) {
      return portable_detail::as_signed(x) < portable_detail::as_signed(y) ? y : x;
    });
  }
  /// a / d for every lane, where every lane is a multiple of d modulo 2^32
  /// and the quotient times d's power of two fits int32 (a itself may have
  /// wrapped): multiply by the inverse of the odd part modulo 2^32, then
  /// shift out the power of two (as the SIMD targets).
  static i32 exact_div_i32(const i32& a, std::int32_t d) noexcept {
    const auto divisor = kernels::exact_divisor<std::uint32_t>(d);
    const auto shift = divisor.shift;
    const std::uint32_t inverse = divisor.inverse;
    return i32::map(a, [shift, inverse](auto x) {
      return std::bit_cast<decltype(x)>(portable_detail::as_signed(x * inverse) >> shift);
    });
  }

  /// The sums of one row for both s16 blocks below: acc[j] = sum over
  /// `pairs` channel pairs of row[k] * panel[k][j], modulo 2^32 (summed in
  /// uint32, as the SIMD targets' int32 lanes wrap; the int64 path's
  /// chunks never wrap, the int32 path's may).
  static void s16_row_sums(int pairs, const std::int16_t* row, const std::int16_t* panel,
                           std::int32_t (&acc)[s16_panel]) noexcept {
    constexpr int NR = s16_panel;
    std::uint32_t sum[NR] = {};
    for (int p = 0; p < pairs; ++p) {
      const std::int32_t a0 = row[2 * p], a1 = row[2 * p + 1];
      const std::int16_t* b = panel + p * 2 * NR;
      for (int j = 0; j < NR; ++j)
        sum[j] += static_cast<std::uint32_t>(a0 * b[2 * j]) + static_cast<std::uint32_t>(a1 * b[2 * j + 1]);
    }
    for (int j = 0; j < NR; ++j) acc[j] = static_cast<std::int32_t>(sum[j]);
  }

  /// Micro-kernel `s16_gemm_<Rows>x16__portable` (see kernels/gemm_s16.hpp):
  /// c[m][j] (+)= sum over `pairs` channel pairs of a[m][k] * panel[k][j],
  /// summed in int32.
  template <int Rows>
  static void s16_block(int pairs, const std::int16_t* a, std::ptrdiff_t lda,
                        const std::int16_t* panel, std::int64_t* c, std::ptrdiff_t ldc,
                        bool accumulate) noexcept {
    for (int m = 0; m < Rows; ++m) {
      std::int32_t acc[s16_panel];
      s16_row_sums(pairs, a + m * lda, panel, acc);
      std::int64_t* out = c + m * ldc;
      for (int j = 0; j < s16_panel; ++j) out[j] = accumulate ? out[j] + acc[j] : acc[j];
    }
  }

  /// Micro-kernel `s16_gemm_i32_<Rows>x16__portable`: c[m][j] = the sums
  /// (int32).
  template <int Rows>
  static void s16_block_i32(int pairs, const std::int16_t* a, std::ptrdiff_t lda,
                            const std::int16_t* panel, std::int32_t* c, std::ptrdiff_t ldc) noexcept {
    for (int m = 0; m < Rows; ++m) {
      std::int32_t acc[s16_panel];
      s16_row_sums(pairs, a + m * lda, panel, acc);
      std::memcpy(c + m * ldc, acc, sizeof acc);
    }
  }

  // The quantized (8-bit transform domain) kernels: see kernels/gemm_q8.hpp.
  static constexpr bool has_q8_kernels = true;
  static bool supports_q8() noexcept { return true; }
  static constexpr int q8_gemm_rows = 4;
  static constexpr int q8_panel = 16;
  /// Added to every stored data code (signed codes here).
  static constexpr int q8_data_offset = 0;

  /// Quantizes the transformed data v: code = clamp(round_half_even(float(v)
  /// * mult), lo, hi) + q8_data_offset, one byte per lane, into p.
  static void store_q8(std::int8_t* p, const i16& v, float mult, std::int32_t lo,
                       std::int32_t hi) noexcept {
    std::int16_t x[i16_lanes];
    v.store(x);
    for (int i = 0; i < i16_lanes; ++i) {
      const auto q = static_cast<std::int32_t>(std::nearbyint(static_cast<float>(x[i]) * mult));
      p[i] = static_cast<std::int8_t>(std::clamp(q, lo, hi) + q8_data_offset);
    }
  }

  /// int8 output: round_half_even(clamp(v, -128, 127)) per lane; NaN gives
  /// -128, as the SIMD targets' max-then-min clamp does.
  static void store_f32_as_s8(std::int8_t* p, const f32& v) noexcept {
    float lanes[f32_lanes];
    v.store(lanes);
    for (int i = 0; i < f32_lanes; ++i) {
      float x = lanes[i] > -128.0f ? lanes[i] : -128.0f;
      x = x < 127.0f ? x : 127.0f;
      p[i] = static_cast<std::int8_t>(std::nearbyint(x));
    }
  }

  /// Micro-kernel `q8_gemm_<Rows>x16__portable` (see kernels/gemm_q8.hpp):
  /// c[m][j] = float(init[j] + sum over 4 * quads channels of a[m][k] *
  /// panel[k][j]) * scale[j].
  template <int Rows>
  static void q8_block(int quads, const std::int8_t* a, std::ptrdiff_t lda,
                       const std::int8_t* panel, const std::int32_t* init, const float* scale,
                       float* c, std::ptrdiff_t ldc) noexcept {
    constexpr int NR = q8_panel;
    for (int m = 0; m < Rows; ++m) {
      const std::int8_t* row = a + m * lda;
      std::int32_t acc[NR];
      for (int j = 0; j < NR; ++j) acc[j] = init[j];
      for (int k = 0; k < quads; ++k) {
        const std::int8_t* b = panel + k * 4 * NR;
        for (int j = 0; j < NR; ++j)
          for (int e = 0; e < 4; ++e) acc[j] += std::int32_t{row[4 * k + e]} * b[4 * j + e];
      }
      for (int j = 0; j < NR; ++j) c[m * ldc + j] = static_cast<float>(acc[j]) * scale[j];
    }
  }
};

}  // namespace sfc::simd
