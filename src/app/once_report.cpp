#include "app/once_report.h"

#include <algorithm>

#include "app/telemetry.h"
#include "core/rules.h"
#include "k8s/pod_identity.h"

namespace cgmm::app {

void OnceReport::add(const core::LeafSample& leaf, const core::Decision& decision) {
  obs::LeafLabels labels = leaf_labels(leaf.name);
  const core::LeafContext& c = leaf.context;
  const core::Workload names = c.workload ? *c.workload : core::Workload{};
  rows_.push_back({std::string(leaf.name),
                   k8s::display_name(leaf.name),
                   std::move(labels.pod_uid),
                   std::move(labels.container_id),
                   std::move(labels.qos),
                   names.namespace_name,
                   names.pod,
                   c.runtime ? "" : names.container,
                   c.rule ? c.rule->name : "",
                   leaf.stats,
                   leaf.error,
                   decision,
                   {}});
}

void OnceReport::finish(core::ReclaimOutcome outcome) {
  auto row = std::find_if(rows_.begin(), rows_.end(),
                          [&](const obs::ReportRow& r) { return r.name == outcome.name; });
  if (row != rows_.end()) {
    row->outcome = std::move(outcome);
  }
}

void OnceReport::print(std::ostream& out, Config::Output format, bool dry_run) const {
  if (format == Config::Output::kJson) {
    obs::print_json(out, rows_, dry_run);
  } else {
    obs::print_table(out, rows_, dry_run);
  }
  out.flush();
}

}  // namespace cgmm::app
