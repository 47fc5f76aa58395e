#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cgroup/hierarchy.h"

namespace cgmm::testing {

// A directory tree in a temp dir that stands in for cgroupfs; removed on destruction.
class TempTree {
 public:
  TempTree() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cgmm-fs-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
  }
  ~TempTree() { std::filesystem::remove_all(root_); }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::filesystem::path& root() const { return root_; }

  void mkdir(const std::string& rel) { std::filesystem::create_directories(root_ / rel); }

  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }

  std::string read(const std::string& rel) const {
    std::ifstream in(root_ / rel);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // A cgroup directory with a v1 memory.stat.
  void v1_cgroup(const std::string& rel, uint64_t cache, uint64_t limit = 9223372036854771712ULL) {
    write(rel + "/memory.stat", "cache " + std::to_string(cache) + "\nrss 0\nshmem 0\n" +
                                    "hierarchical_memory_limit " + std::to_string(limit) + "\n");
  }

  // The tree's directory `rel` opened as a managed parent, as open_parent would for cgroupfs.
  cgroup::Parent parent(const std::string& rel, cgroup::Version version) const {
    cgroup::Parent p;
    p.path = (root_ / rel).string();
    p.name = (root_ / rel).filename().string();
    p.fd.reset(::open(p.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    ::fstat(p.fd.get(), &st);
    p.dev = st.st_dev;
    p.version = version;
    return p;
  }

 private:
  std::filesystem::path root_;
};

}  // namespace cgmm::testing
