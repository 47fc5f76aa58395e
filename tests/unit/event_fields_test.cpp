#include "obs/event_fields.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace cgmm::obs {
namespace {

const std::string kUid = "0c4d5e6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
const std::string kId = "3b1f9e0c7d2a" + std::string(52, 'a');

core::LeafContext runtime_context(std::shared_ptr<const core::Workload> workload = nullptr) {
  core::LeafContext context;
  context.workload = std::move(workload);
  context.runtime = true;
  return context;
}

TEST(EventDisplay, PodmansConmonOfAPodSaysConmonNotThePodAlone) {
  const std::string cgroup = "kubepods/burstable/pod" + kUid + "/conmon";
  EXPECT_EQ(display(cgroup, runtime_context()), "pod " + kUid + " conmon");
  auto named = std::make_shared<const core::Workload>(core::Workload{"shop", "web-1", ""});
  EXPECT_EQ(display(cgroup, runtime_context(named)), "shop/web-1 conmon");
}

TEST(EventDisplay, CrioConmonSaysConmonWithItsContainersShortId) {
  const std::string cgroup = "kubepods/pod" + kUid + "/crio-conmon-" + kId;
  EXPECT_EQ(display(cgroup, runtime_context()), "pod " + kUid + " conmon 3b1f9e0c7d2a");
}

TEST(EventDisplay, APodsOwnCgroupIsThePod) {
  EXPECT_EQ(display("kubepods/pod" + kUid, core::LeafContext{}), "pod " + kUid);
}

}  // namespace
}  // namespace cgmm::obs
