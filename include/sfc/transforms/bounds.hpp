#pragma once
// Integer range bounds of a 2D algorithm for int8 inputs, decided at compile time.
//
// The growth members of a 2D form (Algorithm2D in form2d.hpp) are exact
// worst-case gains: the largest row L1 norm of the dense 2D data transform
// (data_growth), of the weight transform (weight_growth), and the largest
// product of the two norms over one multiplication (product_growth). With
// int8 data and weights, |x| <= 128 and |w| <= 128 (the int8 range is
// [-128, 127], so 128 is attained in magnitude), hence
//
//   max |transformed data|   = data_growth   * 128
//   max |transformed weight| = weight_growth * 128
//   max |one product|        = product_growth * 128 * 128
//
// and the element-wise stage, which sums products over input channels, stays
// inside int32 for at most floor((2^31 - 1) / (product_growth * 128 * 128))
// channels before the accumulator must be widened (or the partial sum flushed).
//
// For SFC every growth is an integer (the transforms are ternary). Winograd's
// weight transform G is fractional, so its weight and product growths are
// rationals; the bounds below are still exact: a magnitude bound is the
// ceiling of the rational bound (the smallest integer range that holds every
// transformed value), and the channel limit is the floor of the exact
// rational quotient. (In a real int8 Winograd pipeline the fractional weights
// are rescaled before quantization; these numbers describe the unscaled
// transform.)
//
// Everything is constexpr, so a kernel can static_assert its storage types:
//     static_assert(sfc::int8_data_fits_int16<sfc::SFC<6, 7, 3>::symbolic_2d>());

#include <concepts>
#include <cstdint>
#include <stdexcept>

#include "sfc/algebra/rational.hpp"

namespace sfc {

/// Largest magnitude of an int8 value: |-128|.
inline constexpr std::int64_t kInt8MaxMagnitude = 128;
/// Largest int16 value; transformed values within +-32767 fit int16 either way.
inline constexpr std::int64_t kInt16Max = 32767;
/// Largest int32 value.
inline constexpr std::int64_t kInt32Max = 2147483647;

/// A 2D form (Algorithm2D) with exact growth bounds.
template <class A2>
concept HasGrowthBounds2D = requires {
  { A2::data_growth } -> std::convertible_to<Rational>;
  { A2::weight_growth } -> std::convertible_to<Rational>;
  { A2::product_growth } -> std::convertible_to<Rational>;
};

/// An algorithm type (SFC) that offers the symbolic 2D form.
template <class Alg>
concept HasSymbolic2D = requires {
  typename Alg::symbolic_2d;
};

/// The 2D form an algorithm is meant to run in: symbolic when it has one
/// (SFC), nested otherwise (Winograd).
template <class Alg>
struct preferred_2d {
  using type = typename Alg::nested_2d;
};
template <HasSymbolic2D Alg>
struct preferred_2d<Alg> {
  using type = typename Alg::symbolic_2d;
};
template <class Alg>
using preferred_2d_t = typename preferred_2d<Alg>::type;

namespace detail {

/// Smallest integer >= r.
constexpr std::int64_t ceil_rational(const Rational& r) {
  const std::int64_t q = r.num() / r.den();  // truncates toward zero
  return (r.num() % r.den() != 0 && r.num() > 0) ? q + 1 : q;
}

/// Largest integer <= r.
constexpr std::int64_t floor_rational(const Rational& r) {
  const std::int64_t q = r.num() / r.den();
  return (r.num() % r.den() != 0 && r.num() < 0) ? q - 1 : q;
}

}  // namespace detail

/// max |transformed data| for int8 data: ceil(data_growth * 128).
template <HasGrowthBounds2D A2>
constexpr std::int64_t int8_data_bound() {
  return detail::ceil_rational(Rational(A2::data_growth) * kInt8MaxMagnitude);
}

/// max |transformed weight| for int8 weights: ceil(weight_growth * 128).
template <HasGrowthBounds2D A2>
constexpr std::int64_t int8_weight_bound() {
  return detail::ceil_rational(Rational(A2::weight_growth) * kInt8MaxMagnitude);
}

/// max |one element-wise product| for int8 data and weights:
/// ceil(product_growth * 128 * 128).
template <HasGrowthBounds2D A2>
constexpr std::int64_t int8_product_bound() {
  return detail::ceil_rational(Rational(A2::product_growth) * kInt8MaxMagnitude *
                               kInt8MaxMagnitude);
}

/// True when every transformed int8 data value fits int16.
template <HasGrowthBounds2D A2>
constexpr bool int8_data_fits_int16() {
  return int8_data_bound<A2>() <= kInt16Max;
}

/// True when every transformed int8 weight fits int16.
template <HasGrowthBounds2D A2>
constexpr bool int8_weight_fits_int16() {
  return int8_weight_bound<A2>() <= kInt16Max;
}

/// True when every transformed value of data with |x| <= magnitude fits
/// int16 (magnitude 255 for uint8 data less a zero point stored as uint8).
template <HasGrowthBounds2D A2>
constexpr bool data_fits_int16(std::int64_t magnitude) {
  return detail::ceil_rational(Rational(A2::data_growth) * magnitude) <= kInt16Max;
}

/// Input channels whose products can be summed in int32 without overflow, in
/// the worst case: floor((2^31 - 1) / (product_growth * |x|max * |w|max)),
/// for data and weights of at most those magnitudes (int8: 128 and 128).
template <HasGrowthBounds2D A2>
constexpr std::int64_t int32_channel_limit(std::int64_t data_magnitude = kInt8MaxMagnitude,
                                           std::int64_t weight_magnitude = kInt8MaxMagnitude) {
  const Rational per_channel = Rational(A2::product_growth) * data_magnitude * weight_magnitude;
  if (per_channel.is_zero())
    throw std::domain_error("sfc::int32_channel_limit: zero product growth");
  return detail::floor_rational(Rational(kInt32Max) / per_channel);
}

}  // namespace sfc
