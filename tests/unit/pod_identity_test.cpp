#include "k8s/pod_identity.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace cgmm::k8s {

void PrintTo(const PodIdentity& id, std::ostream* os) {
  *os << "{pod_uid=" << id.pod_uid << " container_id=" << id.container_id
      << " qos=" << to_string(id.qos) << " runtime=" << id.runtime << "}";
}

namespace {

const std::string kUid = "0f3c1a2b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const std::string kUidSystemd = "0f3c1a2b_4d5e_4f60_8a7b_9c0d1e2f3a4b";
const std::string kStaticUid = "6c3ee2e5b1c9a8f7d6e5c4b3a2f1e0d9";
const std::string kId = "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
// A podman pod's id, as podman names its own pods' cgroups.
const std::string kPodmanPodId = "9d4c7b2e1f0a3b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90abcdef12";

const std::string kV1 = "/sys/fs/cgroup/memory/";
const std::string kV2 = "/sys/fs/cgroup/";

struct Case {
  std::string name;
  std::string path;  // without the mount prefix; each case runs bare, with v1 and with v2
  std::optional<PodIdentity> expected;
};

PodIdentity pod(std::string uid, QosClass qos) {
  return {std::move(uid), "", qos};
}

PodIdentity container(QosClass qos, std::string uid = kUid) {
  return {std::move(uid), kId, qos};
}

PodIdentity conmon(QosClass qos) {
  PodIdentity identity = container(qos);
  identity.runtime = true;
  return identity;
}

// podman's cgroupfs conmon: the monitor of every container beside it, so no container id.
PodIdentity podman_conmon(QosClass qos) {
  PodIdentity identity = pod(kUid, qos);
  identity.runtime = true;
  return identity;
}

std::vector<Case> cases() {
  using enum QosClass;
  return {
      // cgroupfs driver
      {"cgroupfs_guaranteed_bare_id", "kubepods/pod" + kUid + "/" + kId, container(kGuaranteed)},
      {"cgroupfs_burstable_bare_id", "kubepods/burstable/pod" + kUid + "/" + kId,
       container(kBurstable)},
      {"cgroupfs_besteffort_bare_id", "kubepods/besteffort/pod" + kUid + "/" + kId,
       container(kBestEffort)},
      {"cgroupfs_crio", "kubepods/burstable/pod" + kUid + "/crio-" + kId, container(kBurstable)},
      {"cgroupfs_static_pod", "kubepods/pod" + kStaticUid + "/" + kId,
       container(kGuaranteed, kStaticUid)},
      {"cgroupfs_pod_level", "kubepods/besteffort/pod" + kUid, pod(kUid, kBestEffort)},
      {"cgroupfs_pod_level_guaranteed", "kubepods/pod" + kUid + "/", pod(kUid, kGuaranteed)},
      {"cgroupfs_crio_conmon", "kubepods/pod" + kUid + "/crio-conmon-" + kId, conmon(kGuaranteed)},
      {"cgroupfs_crio_crun_container",
       "kubepods/burstable/pod" + kUid + "/crio-" + kId + "/container", container(kBurstable)},
      {"cgroupfs_nested_kubelet_root", "kubelet/kubepods/burstable/pod" + kUid + "/" + kId,
       container(kBurstable)},

      // systemd driver
      {"systemd_containerd_burstable",
       "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd +
           ".slice/cri-containerd-" + kId + ".scope",
       container(kBurstable)},
      {"systemd_containerd_besteffort",
       "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidSystemd +
           ".slice/cri-containerd-" + kId + ".scope",
       container(kBestEffort)},
      {"systemd_containerd_guaranteed",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope",
       container(kGuaranteed)},
      {"systemd_crio",
       "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd +
           ".slice/crio-" + kId + ".scope",
       container(kBurstable)},
      {"systemd_docker",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/docker-" + kId + ".scope",
       container(kGuaranteed)},
      {"systemd_pod_level",
       "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd + ".slice",
       pod(kUid, kBurstable)},
      {"systemd_crio_conmon",
       "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd +
           ".slice/crio-conmon-" + kId + ".scope",
       conmon(kBurstable)},
      {"systemd_crio_crun_container",
       "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd +
           ".slice/crio-" + kId + ".scope/container",
       container(kBurstable)},
      {"systemd_crio_conmon_guaranteed",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-conmon-" + kId + ".scope",
       conmon(kGuaranteed)},
      {"systemd_nested_slice_prefix",
       "kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           kUidSystemd + ".slice/cri-containerd-" + kId + ".scope",
       container(kBestEffort)},

      // podman with --cgroup-parent set to a kubelet pod's cgroup (cgroupfs driver)
      {"cgroupfs_podman", "kubepods/burstable/pod" + kUid + "/libpod-" + kId,
       container(kBurstable)},
      {"cgroupfs_podman_guaranteed", "kubepods/pod" + kUid + "/libpod-" + kId,
       container(kGuaranteed)},
      {"cgroupfs_podman_conmon", "kubepods/burstable/pod" + kUid + "/conmon",
       podman_conmon(kBurstable)},
      {"cgroupfs_podman_under_scratch_parent",
       "cgmm-test-1234/kubepods/besteffort/pod" + kUid + "/libpod-" + kId, container(kBestEffort)},
      {"cgroupfs_podman_conmon_under_scratch_parent",
       "cgmm-test-1234/kubepods/besteffort/pod" + kUid + "/conmon", podman_conmon(kBestEffort)},

      // podman with --cgroup-parent set to a kubelet pod's slice (systemd driver)
      {"systemd_podman",
       "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd +
           ".slice/libpod-" + kId + ".scope",
       container(kBurstable)},
      {"systemd_podman_crun_container",
       "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd +
           ".slice/libpod-" + kId + ".scope/container",
       container(kBurstable)},
      {"systemd_podman_conmon",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-conmon-" + kId + ".scope",
       conmon(kGuaranteed)},

      // junk and near misses
      {"empty", "", std::nullopt},
      {"not_kubernetes", "system.slice/docker-" + kId + ".scope", std::nullopt},
      {"kubepods_root", "kubepods", std::nullopt},
      {"qos_level_only", "kubepods/burstable", std::nullopt},
      {"systemd_qos_level_only", "kubepods.slice/kubepods-burstable.slice", std::nullopt},
      {"pod_without_uid", "kubepods/pod/" + kId, std::nullopt},
      {"uid_not_hex", "kubepods/podxyz-123/" + kId, std::nullopt},
      {"short_container_id", "kubepods/pod" + kUid + "/3b1f9e0c7d2a", std::nullopt},
      {"uppercase_container_id", "kubepods/pod" + kUid + "/" + std::string(64, 'A'), std::nullopt},
      {"nested_below_container", "kubepods/pod" + kUid + "/" + kId + "/init", std::nullopt},
      {"unknown_child_of_pod", "kubepods/pod" + kUid + "/pause", std::nullopt},
      {"systemd_unknown_scope",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/runc-" + kId + ".scope", std::nullopt},
      {"systemd_qos_mismatch",
       "kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" + kUidSystemd + ".slice",
       std::nullopt},
      {"systemd_uid_with_dashes",
       "kubepods.slice/kubepods-pod" + kUid + ".slice/cri-containerd-" + kId + ".scope",
       std::nullopt},
      {"cgroupfs_id_with_scope_suffix", "kubepods/pod" + kUid + "/" + kId + ".scope", std::nullopt},

      // near misses of crun's `container` child and CRI-O's conmon
      {"systemd_container_under_containerd_scope",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" + kId +
           ".scope/container",
       std::nullopt},
      {"systemd_container_under_docker_scope",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/docker-" + kId + ".scope/container",
       std::nullopt},
      {"cgroupfs_container_under_bare_id", "kubepods/pod" + kUid + "/" + kId + "/container",
       std::nullopt},
      {"systemd_other_child_of_crio_scope",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-" + kId + ".scope/init",
       std::nullopt},
      {"systemd_container_scope_under_crio_scope",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-" + kId +
           ".scope/container.scope",
       std::nullopt},
      {"systemd_nested_below_crun_container",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-" + kId + ".scope/container/sub",
       std::nullopt},
      {"cgroupfs_container_under_crio_bad_id",
       "kubepods/pod" + kUid + "/crio-" + kId.substr(0, 63) + "/container", std::nullopt},
      {"cgroupfs_container_directly_under_pod", "kubepods/pod" + kUid + "/container", std::nullopt},
      {"cgroupfs_crio_conmon_short_id", "kubepods/pod" + kUid + "/crio-conmon-3b1f9e0c7d2a",
       std::nullopt},
      {"systemd_crio_conmon_uppercase_id",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-conmon-" + std::string(64, 'A') +
           ".scope",
       std::nullopt},
      {"systemd_crio_conmon_without_id",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-conmon-.scope", std::nullopt},
      {"systemd_crio_conmon_with_container_child",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-conmon-" + kId +
           ".scope/container",
       std::nullopt},
      {"cgroupfs_crio_conmon_with_scope_suffix",
       "kubepods/pod" + kUid + "/crio-conmon-" + kId + ".scope", std::nullopt},
      {"systemd_crio_conmon_without_scope_suffix",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-conmon-" + kId, std::nullopt},

      // near misses of podman's names, and podman's own pods, which have no pod UID
      {"cgroupfs_podman_conmon_with_id", "kubepods/pod" + kUid + "/libpod-conmon-" + kId,
       std::nullopt},
      {"cgroupfs_podman_crun_child", "kubepods/pod" + kUid + "/libpod-" + kId + "/container",
       std::nullopt},
      {"cgroupfs_podman_with_scope_suffix", "kubepods/pod" + kUid + "/libpod-" + kId + ".scope",
       std::nullopt},
      {"cgroupfs_podman_short_id", "kubepods/pod" + kUid + "/libpod-3b1f9e0c7d2a", std::nullopt},
      {"cgroupfs_podman_uppercase_id", "kubepods/pod" + kUid + "/libpod-" + std::string(64, 'A'),
       std::nullopt},
      {"cgroupfs_podman_without_id", "kubepods/pod" + kUid + "/libpod-", std::nullopt},
      {"cgroupfs_podman_split_payload", "kubepods/pod" + kUid + "/libpod-payload-" + kId,
       std::nullopt},
      {"cgroupfs_podman_nested_below_container", "kubepods/pod" + kUid + "/libpod-" + kId + "/sub",
       std::nullopt},
      {"cgroupfs_podman_conmon_with_child", "kubepods/pod" + kUid + "/conmon/sub", std::nullopt},
      {"cgroupfs_podman_conmon_at_qos_level", "kubepods/burstable/conmon", std::nullopt},
      {"cgroupfs_podman_at_qos_level", "kubepods/burstable/libpod-" + kId, std::nullopt},
      {"cgroupfs_podman_pod_below_kubelet_pod",
       "kubepods/burstable/pod" + kUid + "/" + kPodmanPodId + "/libpod-" + kId, std::nullopt},
      {"cgroupfs_podman_conmon_in_pod_below_kubelet_pod",
       "kubepods/burstable/pod" + kUid + "/" + kPodmanPodId + "/conmon", std::nullopt},
      {"cgroupfs_podman_own_pod", "libpod_parent/" + kPodmanPodId + "/libpod-" + kId, std::nullopt},
      {"cgroupfs_podman_own_pod_conmon", "libpod_parent/" + kPodmanPodId + "/conmon", std::nullopt},
      {"cgroupfs_podman_default_parent", "libpod_parent/libpod-" + kId, std::nullopt},
      {"systemd_podman_without_scope_suffix",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-" + kId, std::nullopt},
      {"systemd_podman_other_child",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-" + kId + ".scope/init",
       std::nullopt},
      {"systemd_podman_nested_below_crun_container",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-" + kId +
           ".scope/container/sub",
       std::nullopt},
      {"systemd_podman_conmon_without_id",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-conmon-.scope", std::nullopt},
      {"systemd_podman_conmon_short_id",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-conmon-3b1f9e0c7d2a.scope",
       std::nullopt},
      {"systemd_podman_conmon_with_container_child",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-conmon-" + kId +
           ".scope/container",
       std::nullopt},
      {"systemd_podman_conmon_without_scope_suffix",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-conmon-" + kId, std::nullopt},
      {"systemd_cgroupfs_style_conmon",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/conmon.scope", std::nullopt},
      {"systemd_podman_pod_slice_below_kubelet_pod",
       "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/kubepods-pod" + kUidSystemd +
           "-libpod_pod_" + kPodmanPodId + ".slice/libpod-" + kId + ".scope",
       std::nullopt},
      {"systemd_podman_own_pod",
       "machine.slice/machine-libpod_pod_" + kPodmanPodId + ".slice/libpod-" + kId + ".scope",
       std::nullopt},
      {"systemd_podman_own_pod_conmon",
       "machine.slice/machine-libpod_pod_" + kPodmanPodId + ".slice/libpod-conmon-" + kId +
           ".scope",
       std::nullopt},
      {"systemd_podman_default_parent", "machine.slice/libpod-" + kId + ".scope", std::nullopt},
  };
}

class PodIdentityTest : public testing::TestWithParam<Case> {};

TEST_P(PodIdentityTest, ParsesRelativePath) {
  EXPECT_EQ(parse_pod_identity(GetParam().path), GetParam().expected);
}

TEST_P(PodIdentityTest, ParsesUnderV1MemoryMount) {
  EXPECT_EQ(parse_pod_identity(kV1 + GetParam().path), GetParam().expected);
}

TEST_P(PodIdentityTest, ParsesUnderV2Mount) {
  EXPECT_EQ(parse_pod_identity(kV2 + GetParam().path), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Layouts, PodIdentityTest, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& param_info) {
                           return param_info.param.name;
                         });

TEST(PodIdentityDisplayName, ContainerShowsPodUidAndShortId) {
  const std::string path = kV1 + "kubepods/burstable/pod" + kUid + "/" + kId;
  EXPECT_EQ(display_name(path), "pod " + kUid + " container 3b1f9e0c7d2a");
}

TEST(PodIdentityDisplayName, PodLevelCgroupShowsPodUid) {
  EXPECT_EQ(display_name("kubepods.slice/kubepods-pod" + kUidSystemd + ".slice"), "pod " + kUid);
}

TEST(PodIdentityDisplayName, CrunContainerIsNamedByItsParentsId) {
  const std::string path =
      kV2 + "kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-" + kId + ".scope/container";
  EXPECT_EQ(display_name(path), "pod " + kUid + " container 3b1f9e0c7d2a");
}

TEST(PodIdentityDisplayName, ConmonIsNamedAsTheRuntimeNotTheContainer) {
  EXPECT_EQ(display_name("kubepods/pod" + kUid + "/crio-conmon-" + kId),
            "pod " + kUid + " conmon 3b1f9e0c7d2a");
}

TEST(PodIdentityDisplayName, PodmanContainerShowsPodUidAndShortId) {
  EXPECT_EQ(display_name(kV1 + "kubepods/burstable/pod" + kUid + "/libpod-" + kId),
            "pod " + kUid + " container 3b1f9e0c7d2a");
}

TEST(PodIdentityDisplayName, PodmanConmonIsNamedAsTheRuntimeOfThePod) {
  EXPECT_EQ(display_name("kubepods/burstable/pod" + kUid + "/conmon"), "pod " + kUid + " conmon");
  EXPECT_EQ(display_name("kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/libpod-conmon-" +
                         kId + ".scope"),
            "pod " + kUid + " conmon 3b1f9e0c7d2a");
}

TEST(PodIdentityDisplayName, PodmanOwnPodKeepsItsPath) {
  const std::string path = "libpod_parent/" + kPodmanPodId + "/libpod-" + kId;
  EXPECT_EQ(display_name(path), path);
}

TEST(PodIdentityDisplayName, AnythingElseKeepsItsPath) {
  const std::string near_miss = "kubepods/pod" + kUid + "/crio-conmon-3b1f9e0c7d2a";
  EXPECT_EQ(display_name(near_miss), near_miss);
  EXPECT_EQ(display_name("/sys/fs/cgroup/memory/batch/job-7"), "/sys/fs/cgroup/memory/batch/job-7");
}

TEST(PodIdentityStrings, LabelValuesAreLowercase) {
  EXPECT_EQ(to_string(QosClass::kGuaranteed), "guaranteed");
  EXPECT_EQ(to_string(QosClass::kBurstable), "burstable");
  EXPECT_EQ(to_string(QosClass::kBestEffort), "besteffort");
}

}  // namespace
}  // namespace cgmm::k8s
