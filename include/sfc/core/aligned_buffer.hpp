#pragma once
/// \file
/// `sfc::AlignedBuffer<T>`: a heap array aligned to 64 bytes (one cache line,
/// one AVX-512 vector), for packed weights and workspaces. Zero-initialised
/// unless constructed with `sfc::uninitialized`.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

namespace sfc {

/// Tag: leave the elements of a new AlignedBuffer uninitialised.
struct Uninitialized {};
inline constexpr Uninitialized uninitialized{};

template <class T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "AlignedBuffer holds trivially copyable values");

 public:
  static constexpr std::size_t alignment = 64;

  AlignedBuffer() = default;
  /// `size` zero-initialised elements.
  explicit AlignedBuffer(std::size_t size) : AlignedBuffer(size, uninitialized) {
    if (size_ != 0) std::memset(static_cast<void*>(data_.get()), 0, size_ * sizeof(T));
  }
  /// `size` elements with indeterminate values (for scratch that is written
  /// before it is read).
  AlignedBuffer(std::size_t size, Uninitialized)
      : data_(size == 0 ? nullptr
                        : static_cast<T*>(::operator new(size * sizeof(T), std::align_val_t{alignment}))),
        size_(size) {}

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::span<T> span() noexcept { return {data_.get(), size_}; }
  std::span<const T> span() const noexcept { return {data_.get(), size_}; }

 private:
  struct Free {
    void operator()(T* p) const noexcept { ::operator delete(p, std::align_val_t{alignment}); }
  };
  std::unique_ptr<T, Free> data_;
  std::size_t size_ = 0;
};

namespace detail {

/// This thread's scratch buffer of at least `bytes` bytes, 64-byte aligned:
/// kept between calls and grown when a call needs more, so repeated calls of
/// an operator do not allocate (or fault in fresh pages) every time. Its
/// contents are indeterminate. Not reentrant: one user per thread at a time.
inline std::byte* thread_scratch(std::size_t bytes) {
  thread_local AlignedBuffer<std::byte> buffer;
  if (buffer.size() < bytes) buffer = AlignedBuffer<std::byte>(bytes, uninitialized);
  return buffer.data();
}

/// p rounded up to AlignedBuffer's alignment (for carving a caller's
/// workspace into aligned parts).
template <class T>
T* align_up(T* p) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  constexpr std::uintptr_t mask = AlignedBuffer<std::byte>::alignment - 1;
  return reinterpret_cast<T*>((address + mask) & ~mask);
}

/// `bytes` rounded up to whole 64-byte lines.
inline std::int64_t round_to_line(std::int64_t bytes) noexcept {
  constexpr auto line = static_cast<std::int64_t>(AlignedBuffer<std::byte>::alignment);
  return (bytes + line - 1) / line * line;
}

}  // namespace detail

}  // namespace sfc
