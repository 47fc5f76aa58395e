#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace cgmm::bench {

// A kubepods-like tree, <root>/kubepods/burstable/pod<uid>/<64 hex>, two containers a pod, made
// of real cgroups (on cgroupfs) or of plain directories each holding a memory.stat (fixture).
// Removed on destruction, children first.
class BenchTree {
 public:
  BenchTree(std::string root, bool fixture);
  ~BenchTree();
  BenchTree(const BenchTree&) = delete;
  BenchTree& operator=(const BenchTree&) = delete;

  const std::string& root() const { return root_; }
  // Adds pods until there are `leaves` containers. False when interrupted or a mkdir failed.
  bool grow(size_t leaves);
  // Removes `pods` random pods and creates as many new ones.
  bool churn(size_t pods);
  size_t leaves() const { return pods_.size() * kContainersPerPod; }
  // Paths of every leaf below root(), "kubepods/burstable/pod.../<hex>".
  std::vector<std::string> leaf_paths() const;
  void remove_all();

  static constexpr size_t kContainersPerPod = 2;

 private:
  struct Pod {
    std::string path;  // below root
    std::vector<std::string> containers;
  };
  bool add_pod();
  bool remove_pod(size_t index);
  bool make_dir(const std::string& rel);

  std::string root_;
  bool fixture_;
  std::vector<Pod> pods_;
  std::mt19937_64 rng_{42};
};

// Set by SIGINT/SIGTERM; long loops stop early so that the tree is still removed.
bool interrupted();
void install_interrupt_handlers();

}  // namespace cgmm::bench
