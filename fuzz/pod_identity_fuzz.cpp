// Cgroup paths as the kubelet, a runtime or anyone with mkdir rights under the parent names them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "k8s/pod_identity.h"

using namespace cgmm::k8s;

namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  const auto id = parse_pod_identity(path);
  const std::string shown = display_name(path);
  FUZZ_CHECK(!shown.empty() || path.empty());
  if (!id) {
    FUZZ_CHECK(shown == path);
    return 0;
  }
  FUZZ_CHECK(!id->pod_uid.empty() && id->pod_uid.size() <= 64);
  for (char c : id->pod_uid) {
    FUZZ_CHECK(c == '-' || is_lower_hex(std::string_view(&c, 1)));
  }
  FUZZ_CHECK(id->container_id.empty() ||
             (id->container_id.size() == 64 && is_lower_hex(id->container_id)));
  FUZZ_CHECK(!to_string(id->qos).empty());
  FUZZ_CHECK(shown == display_name(*id));
  // A cgroupfs mount point in front of a relative path changes nothing.
  if (!path.starts_with('/')) {
    FUZZ_CHECK(parse_pod_identity("/sys/fs/cgroup/memory/" + std::string(path)) == id);
  }
  return 0;
}
