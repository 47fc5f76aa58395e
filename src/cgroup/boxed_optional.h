#pragma once

#include <memory>
#include <utility>

namespace cgmm::cgroup {

// An optional value kept out of line: one pointer wide, for a member that is nearly always empty
// but would widen every element of a large array (std::optional<IoError> takes 56 bytes in each
// of a scan's samples). Copies copy the value.
template <class T>
class BoxedOptional {
 public:
  BoxedOptional() = default;
  BoxedOptional(T value)  // NOLINT(google-explicit-constructor): like std::optional
      : p_(std::make_unique<T>(std::move(value))) {}
  BoxedOptional(const BoxedOptional& other) : p_(clone(other)) {}
  BoxedOptional(BoxedOptional&&) noexcept = default;
  BoxedOptional& operator=(const BoxedOptional& other) {
    if (this != &other) {
      p_ = clone(other);
    }
    return *this;
  }
  BoxedOptional& operator=(BoxedOptional&&) noexcept = default;
  BoxedOptional& operator=(T value) {
    p_ = std::make_unique<T>(std::move(value));
    return *this;
  }
  ~BoxedOptional() = default;

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  void reset() { p_.reset(); }

 private:
  static std::unique_ptr<T> clone(const BoxedOptional& other) {
    return other.p_ ? std::make_unique<T>(*other.p_) : nullptr;
  }

  std::unique_ptr<T> p_;
};

}  // namespace cgmm::cgroup
