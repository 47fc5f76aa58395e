#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cgmm::cgroup {

// What a failed system call on cgroupfs was doing: errno, the operation and the file.
struct IoError {
  int err = 0;
  const char* op = "";  // "open", "read", "write", ...
  std::string file;     // the control file or directory the call was about

  // "read memory.stat of kubepods/pod1/c1: No such file or directory"
  std::string describe(std::string_view cgroup) const;
  // A cgroup removed under our feet answers ENOENT (the directory is gone) or ENODEV (the
  // directory is still open but the cgroup is dead). Both are normal life, not errors.
  bool vanished() const { return err == ENOENT || err == ENODEV; }
};

// A value or an IoError. Fallible I/O returns this; the caller decides whether and how to log.
template <typename T>
class IoResult {
 public:
  IoResult(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  IoResult(IoError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const IoError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, IoError> v_;
};

struct Ok {};
using IoStatus = IoResult<Ok>;

}  // namespace cgmm::cgroup
