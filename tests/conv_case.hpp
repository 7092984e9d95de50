#pragma once
// ConvCase<Derived>: the case description every operator tester shares (the
// shape, layouts, ReLU, bias, threads, seed) with its fluent setters. A
// tester derives from it (CRTP, so setters return the tester) and adds its
// own fill and comparison.

#include <cstdint>
#include <string>

#include "sfc/core/conv_shape.hpp"
#include "sfc/layers/conv2d.hpp"

namespace sfc::testing {

template <class Derived>
class ConvCase {
 public:
  Derived& batch(std::int64_t n) { shape_.batch = n; return self(); }
  Derived& channels(std::int64_t cin, std::int64_t cout) {
    shape_.in_channels = cin;
    shape_.out_channels = cout;
    return self();
  }
  Derived& size(std::int64_t h, std::int64_t w) {
    shape_.height = h;
    shape_.width = w;
    return self();
  }
  Derived& pad(std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right) {
    shape_.pad_top = top;
    shape_.pad_bottom = bottom;
    shape_.pad_left = left;
    shape_.pad_right = right;
    return self();
  }
  Derived& pad(std::int64_t all) { return pad(all, all, all, all); }
  Derived& layouts(Layout in, Layout out) {
    options_.input_layout = in;
    options_.output_layout = out;
    return self();
  }
  /// A case whose NHWC output the operators write in place
  /// (detail::writes_output_in_place): whole SFC-6(7x7) tiles, 96 output
  /// channels (no padding on any target), 4 images of 16 tiles (image
  /// groups of 3 and 1).
  Derived& in_place_nhwc_output() {
    return batch(4).channels(24, 96).size(28, 28).pad(1).layouts(Layout::NHWC, Layout::NHWC);
  }
  Derived& relu(bool on) { options_.relu = on; return self(); }
  Derived& weight_path(WeightPath path) {
    options_.weight_path = path;
    return self();
  }
  Derived& bias(bool on) { bias_ = on; return self(); }
  Derived& threads(int n) { threads_ = n; return self(); }
  Derived& seed(std::uint32_t s) { seed_ = s; return self(); }

 protected:
  /// The case's shape with an R x R kernel.
  Conv2dShape shape_with_kernel(int R) const {
    Conv2dShape s = shape_;
    s.kernel_h = s.kernel_w = R;
    return s;
  }
  /// "<target> <shape> in <layout> out <layout> [relu] [bias]", for traces.
  std::string describe(const char* target, const Conv2dShape& s) const {
    return std::string(target) + " " + s.to_string() + " in " +
           std::string(to_string(options_.input_layout)) + " out " +
           std::string(to_string(options_.output_layout)) + (options_.relu ? " relu" : "") +
           (options_.weight_path == WeightPath::on_the_fly    ? " weights on the fly"
            : options_.weight_path == WeightPath::transformed ? " weights transformed"
                                                              : "") +
           (bias_ ? " bias" : "");
  }

  Conv2dShape shape_{};
  ConvOptions options_{};
  bool bias_ = true;
  int threads_ = 1;
  std::uint32_t seed_ = 12345;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace sfc::testing
