#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace cgmm::cgroup {

// A cgroup's name, "<parent name>/<path below the parent>": immutable, and shared by every
// holder. The scanner's tree, each scan's samples, the Tracker and a queued reclaim all refer to
// the one allocation, so 10,000 leaves cost their names once. Copying one adjusts a reference
// count (atomic: reclaim workers hold names too) and never copies the text.
class LeafName {
 public:
  LeafName() = default;
  LeafName(std::string_view text)  // NOLINT(google-explicit-constructor): a name is its text
      : rep_(make(text, {})) {}
  LeafName(const char* text) : LeafName(std::string_view(text)) {}         // NOLINT
  LeafName(const std::string& text) : LeafName(std::string_view(text)) {}  // NOLINT
  // "<prefix>/<component>".
  LeafName(std::string_view prefix, std::string_view component) : rep_(make(prefix, component)) {}

  LeafName(const LeafName& other) noexcept : rep_(other.rep_) { acquire(); }
  LeafName(LeafName&& other) noexcept : rep_(std::exchange(other.rep_, nullptr)) {}
  LeafName& operator=(const LeafName& other) noexcept {
    if (rep_ != other.rep_) {
      LeafName(other).swap(*this);
    }
    return *this;
  }
  LeafName& operator=(LeafName&& other) noexcept {
    LeafName(std::move(other)).swap(*this);
    return *this;
  }
  ~LeafName() { release(); }

  void swap(LeafName& other) noexcept { std::swap(rep_, other.rep_); }

  std::string_view view() const {
    return rep_ ? std::string_view(rep_->text(), rep_->size) : std::string_view();
  }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  std::string str() const { return std::string(view()); }
  // NUL-terminated.
  const char* c_str() const { return rep_ ? rep_->text() : ""; }
  size_t size() const { return rep_ ? rep_->size : 0; }
  bool empty() const { return size() == 0; }

  // The same allocation: always the same text.
  bool same(const LeafName& other) const { return rep_ == other.rep_; }

  friend bool operator==(const LeafName& a, const LeafName& b) {
    return a.rep_ == b.rep_ || a.view() == b.view();
  }
  friend bool operator==(const LeafName& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const LeafName& a, const char* b) { return a.view() == b; }
  friend bool operator==(const LeafName& a, const std::string& b) { return a.view() == b; }
  friend std::ostream& operator<<(std::ostream& out, const LeafName& name) {
    return out << name.view();
  }
  friend std::string operator+(std::string a, const LeafName& b) { return a.append(b.view()); }

 private:
  struct Rep {
    std::atomic<uint32_t> refs{1};
    uint32_t size = 0;
    char* text() { return reinterpret_cast<char*>(this + 1); }
  };

  static Rep* make(std::string_view prefix, std::string_view component) {
    const bool joined = !component.empty();
    const size_t size = prefix.size() + (joined ? 1 + component.size() : 0);
    void* mem = ::operator new(sizeof(Rep) + size + 1);
    Rep* rep = new (mem) Rep;
    rep->size = static_cast<uint32_t>(size);
    char* out = rep->text();
    std::memcpy(out, prefix.data(), prefix.size());
    if (joined) {
      out[prefix.size()] = '/';
      std::memcpy(out + prefix.size() + 1, component.data(), component.size());
    }
    out[size] = '\0';
    return rep;
  }
  void acquire() const {
    if (rep_) {
      rep_->refs.fetch_add(1, std::memory_order_relaxed);
    }
  }
  void release() {
    if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      rep_->~Rep();
      ::operator delete(rep_);
    }
    rep_ = nullptr;
  }

  Rep* rep_ = nullptr;
};

}  // namespace cgmm::cgroup

template <>
struct std::hash<cgmm::cgroup::LeafName> {
  size_t operator()(const cgmm::cgroup::LeafName& name) const noexcept {
    return std::hash<std::string_view>{}(name.view());
  }
};
