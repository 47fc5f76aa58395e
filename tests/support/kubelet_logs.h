#pragma once

#include <filesystem>
#include <string>

#include "support/temp_tree.h"

namespace cgmm::testing {

// The kubelet's two log trees in a temp dir, laid out as the kubelet writes them:
//   pods/<namespace>_<pod>_<uid>/<container>/<restart>.log
//   containers/<pod>_<namespace>_<container>-<id>.log -> ../pods/.../<restart>.log
class KubeletLogs {
 public:
  KubeletLogs() {
    tree_.mkdir("pods");
    tree_.mkdir("containers");
  }

  std::string pods_dir() const { return (tree_.root() / "pods").string(); }
  std::string containers_dir() const { return (tree_.root() / "containers").string(); }

  // A pod's directory, as the kubelet makes it when it starts the pod's sandbox.
  std::string add_pod(const std::string& ns, const std::string& pod, const std::string& uid) {
    const std::string dir = "pods/" + ns + "_" + pod + "_" + uid;
    tree_.mkdir(dir);
    return dir;
  }

  // A container of that pod: its log file and the link to it named with its id.
  void add_container(const std::string& ns, const std::string& pod, const std::string& uid,
                     const std::string& container, const std::string& id, int restart = 0) {
    const std::string log =
        add_pod(ns, pod, uid) + "/" + container + "/" + std::to_string(restart) + ".log";
    tree_.write(log, "");
    std::filesystem::create_symlink(
        tree_.root() / log,
        tree_.root() / ("containers/" + pod + "_" + ns + "_" + container + "-" + id + ".log"));
  }

 private:
  TempTree tree_;
};

}  // namespace cgmm::testing
