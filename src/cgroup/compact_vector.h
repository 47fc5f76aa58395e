#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

namespace cgmm::cgroup {

// A move-only vector of at most 2^32 - 1 elements in 16 bytes (std::vector takes 24): for a
// member of a node the scanner holds one of per cgroup, where those 8 bytes decide the malloc
// size class of every node. Only the operations the scanner uses.
template <class T>
class CompactVector {
 public:
  CompactVector() = default;
  CompactVector(CompactVector&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  CompactVector& operator=(CompactVector&& other) noexcept {
    if (this != &other) {
      free_all();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  CompactVector(const CompactVector&) = delete;
  CompactVector& operator=(const CompactVector&) = delete;
  ~CompactVector() { free_all(); }

  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void reserve(std::size_t n) {
    if (n <= capacity_) {
      return;
    }
    if (n > std::numeric_limits<uint32_t>::max()) {
      throw std::length_error("CompactVector");
    }
    T* fresh = static_cast<T*>(::operator new(n * sizeof(T)));
    for (uint32_t i = 0; i < size_; ++i) {
      ::new (fresh + i) T(std::move(data_[i]));
      data_[i].~T();
    }
    ::operator delete(data_);
    data_ = fresh;
    capacity_ = static_cast<uint32_t>(n);
  }

  void push_back(T value) {
    if (size_ == capacity_) {
      reserve(capacity_ == 0 ? 1 : 2 * static_cast<std::size_t>(capacity_));
    }
    ::new (data_ + size_) T(std::move(value));
    ++size_;
  }

  // Removes the element at `pos`; later ones move up. Returns the position after the removed one.
  T* erase(T* pos) {
    std::move(pos + 1, end(), pos);
    data_[--size_].~T();
    return pos;
  }

  void clear() {
    for (uint32_t i = 0; i < size_; ++i) {
      data_[i].~T();
    }
    size_ = 0;
  }

 private:
  void free_all() {
    clear();
    ::operator delete(data_);
    data_ = nullptr;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace cgmm::cgroup
