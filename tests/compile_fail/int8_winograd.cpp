// expect: Winograd's are fractional
// Exact int8 convolution needs integer data and weight transforms; Winograd's
// weight transform is fractional, so the int8 operator refuses it.
#include <cstdint>

#include "sfc/layers/conv2d_int8.hpp"
#include "sfc/transforms/winograd.hpp"

int main() {
  using Conv = sfc::Conv2d<std::int8_t, sfc::Winograd<2, 3>>;
  return Conv::T;
}
