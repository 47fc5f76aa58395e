// Entry names of the kubelet's log trees, which any pod's name shapes: each input line is a pod
// directory or a container link added to one NameTable, then looked up and removed again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "k8s/kubelet_names.h"

using namespace cgmm::k8s;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> names;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    names.push_back(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  }
  NameTable table;
  for (std::string_view name : names) {
    if (auto pod = parse_pod_log_dir(name)) {
      FUZZ_CHECK(!pod->namespace_name.empty() && !pod->pod.empty() && !pod->pod_uid.empty());
    }
    if (auto link = parse_container_log_link(name)) {
      FUZZ_CHECK(!link->id_prefix.empty() && link->id_prefix.size() <= 64);
    }
    table.add_pod_dir(name);
    table.add_container_link(name);
  }
  for (std::string_view name : names) {
    if (auto pod = parse_pod_log_dir(name)) {
      FUZZ_CHECK(table.find(pod->pod_uid, "") != nullptr);
    }
    if (auto link = parse_container_log_link(name)) {
      (void)table.find("", link->id_prefix);
    }
  }
  for (std::string_view name : names) {
    table.remove_pod_dir(name);
    table.remove_container_link(name);
  }
  FUZZ_CHECK(table.pod_count() == 0 && table.link_count() == 0);
  return 0;
}
