#pragma once

#include <ostream>
#include <vector>

#include "app/config.h"
#include "core/decide.h"
#include "core/leaf_sample.h"
#include "core/reclaim_outcome.h"
#include "obs/report.h"

namespace cgmm::app {

// The report of a --once pass: a row per leaf the scan saw, with its decision, completed by the
// outcome of its reclaim.
class OnceReport {
 public:
  void add(const core::LeafSample& leaf, const core::Decision& decision);
  void finish(core::ReclaimOutcome outcome);
  void print(std::ostream& out, Config::Output format, bool dry_run) const;

 private:
  std::vector<obs::ReportRow> rows_;
};

}  // namespace cgmm::app
