#pragma once
/// \file
/// Error reporting for SFC: the `sfc::Error` exception and the non-throwing
/// `sfc::Status` returned by validation functions (`validate()`,
/// `can_implement()`-style checks).

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace sfc {

/// Thrown for invalid arguments: bad shapes, undersized buffers, values that
/// would overflow. The message names the offending field and its value.
class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Outcome of a validation: success, or failure with a human-readable message.
/// Cheap to return; marked [[nodiscard]] so a failed check is never ignored.
class [[nodiscard]] Status {
 public:
  /// A successful outcome (empty message).
  static Status success() { return Status(); }

  /// A failed outcome carrying `message`, which should name the offending
  /// field and value.
  static Status failure(std::string message) {
    Status status;
    status.ok_ = false;
    status.message_ = std::move(message);
    return status;
  }

  /// True when the validation succeeded.
  bool ok() const noexcept { return ok_; }

  /// Why the validation failed; empty on success.
  const std::string& message() const noexcept { return message_; }

 private:
  Status() = default;

  bool ok_ = true;
  std::string message_;
};

/// Throws `sfc::Error` with the status message when `status` is a failure.
/// A non-empty `context` (e.g. the calling function's name) is prepended as
/// "context: message".
inline void throw_if_error(const Status& status, std::string_view context = {}) {
  if (status.ok()) {
    return;
  }
  if (context.empty()) {
    throw Error(status.message());
  }
  std::string message(context);
  message += ": ";
  message += status.message();
  throw Error(message);
}

}  // namespace sfc
