#pragma once
/// \file
/// `prefetch_ahead<Bytes>(p)`: asks for the two cache lines `Bytes` after p.
/// The GEMM micro-kernels stream a layer's transformed weights panel after
/// panel in the order they are packed, and the hardware prefetchers alone
/// leave that stream short; each kernel step asks for the weights of a
/// later step (the distances, measured per kernel, are where it is called:
/// kernels/gemm_f32.hpp, kernels/simd/avx512.hpp).

#include <cstdint>

namespace sfc::kernels {

template <std::uintptr_t Bytes>
inline __attribute__((always_inline)) void prefetch_ahead(const void* p) noexcept {
  // Integer arithmetic: the address may lie past the end of the weights
  // (prefetches never fault).
  const std::uintptr_t ahead = reinterpret_cast<std::uintptr_t>(p) + Bytes;
  __builtin_prefetch(reinterpret_cast<const char*>(ahead));
  __builtin_prefetch(reinterpret_cast<const char*>(ahead + 64));
}

}  // namespace sfc::kernels
