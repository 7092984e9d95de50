#pragma once
/// \file
/// `sfc::examples::FileError`: the exception the model, IDX and reference
/// readers throw for a file they cannot open or whose content breaks its
/// format. The message starts with the file and, for text files, the line
/// ("model.txt:12: conv3: cin=16 but ..."), so a user can go straight to it.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace sfc::examples {

/// A file that cannot be read or does not follow its format.
class FileError : public std::runtime_error {
 public:
  /// `line` is 1-based; 0 when the problem is not about one line (binary
  /// files, a missing file, a missing record).
  FileError(std::string file, std::int64_t line, const std::string& message)
      : std::runtime_error(compose(file, line, message)), file_(std::move(file)), line_(line) {}

  /// The file the problem is in.
  const std::string& file() const noexcept { return file_; }
  /// Its 1-based line, or 0.
  std::int64_t line() const noexcept { return line_; }

 private:
  static std::string compose(const std::string& file, std::int64_t line,
                             const std::string& message) {
    std::string s = file;
    if (line > 0) {
      s.push_back(':');
      s.append(std::to_string(line));
    }
    s.append(": ");
    s.append(message);
    return s;
  }

  std::string file_;
  std::int64_t line_ = 0;
};

}  // namespace sfc::examples
