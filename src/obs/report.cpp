#include "obs/report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace cgmm::obs {

namespace {

using core::format_bytes;

std::string action_text(const ReportRow& row, bool dry_run) {
  if (!row.stats) {
    return "error: " + row.error;
  }
  if (row.decision.action != core::Action::kReclaim) {
    return core::to_string(row.decision.reason);
  }
  if (dry_run) {
    return "would reclaim";
  }
  if (!row.outcome) {
    return "reclaim";
  }
  const core::ReclaimOutcome& o = *row.outcome;
  switch (o.result) {
    case core::ReclaimOutcome::Result::kDone:
    case core::ReclaimOutcome::Result::kPartial:
      return "reclaimed " + format_bytes(o.freed_bytes()) + " in " + core::format_duration(o.took);
    case core::ReclaimOutcome::Result::kFailed:
      return "reclaim failed: " + o.error;
    default:
      return std::string("reclaim ") + core::to_string(o.result);
  }
}

}  // namespace

void print_table(std::ostream& out, const std::vector<ReportRow>& rows, bool dry_run) {
  const bool names = std::any_of(rows.begin(), rows.end(), [](const ReportRow& r) {
    return !r.namespace_name.empty() || !r.pod.empty() || !r.container.empty();
  });
  const bool rules =
      std::any_of(rows.begin(), rows.end(), [](const ReportRow& r) { return !r.rule.empty(); });
  using Line = std::vector<std::string>;
  // Which columns hold numbers, right-aligned; the rest are left-aligned.
  std::vector<bool> numeric;
  Line header;
  const auto column = [&](const char* title, bool number) {
    header.emplace_back(title);
    numeric.push_back(number);
  };
  if (names) {
    column("NAMESPACE", false);
    column("POD", false);
    column("CONTAINER", false);
  }
  column("NAME", false);
  column("CACHE", true);
  column("LIMIT", true);
  column("KIND", false);  // limit_kind: max or high
  column("THRESHOLD", true);
  column("CACHE/LIMIT", true);
  column("REFAULTED", true);  // the kernel's counter as it stands: --once cannot wait for more
  if (rules) {
    column("RULE", false);
  }
  column("ACTION", false);

  const auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  std::vector<Line> lines{header};
  for (const ReportRow& row : rows) {
    Line l;
    if (names) {
      l.push_back(or_dash(row.namespace_name));
      l.push_back(or_dash(row.pod));
      l.push_back(or_dash(row.container));
    }
    l.push_back(row.display.empty() ? row.name : row.display);
    if (row.stats) {
      const core::MemoryStats& s = *row.stats;
      l.push_back(format_bytes(s.cache_bytes));
      l.push_back(s.limit_bytes ? format_bytes(*s.limit_bytes) : "none");
      l.emplace_back(s.limit_bytes ? core::to_string(s.limit_kind) : "-");
      l.push_back(row.decision.threshold_bytes ? format_bytes(*row.decision.threshold_bytes) : "-");
      if (s.limit_bytes && *s.limit_bytes > 0) {
        char pct[16];
        std::snprintf(
            pct, sizeof pct, "%.1f%%",
            100.0 * static_cast<double>(s.cache_bytes) / static_cast<double>(*s.limit_bytes));
        l.emplace_back(pct);
      } else {
        l.emplace_back("-");
      }
      l.push_back(format_bytes(s.refault_bytes));
    } else {
      l.resize(header.size() - (rules ? 2 : 1), "-");  // every size column up to RULE, ACTION
    }
    if (rules) {
      l.push_back(or_dash(row.rule));
    }
    l.push_back(action_text(row, dry_run));
    lines.push_back(std::move(l));
  }

  const size_t columns = header.size();
  std::vector<size_t> width(columns, 0);
  for (const Line& l : lines) {
    for (size_t c = 0; c < columns; ++c) {
      width[c] = std::max(width[c], l[c].size());
    }
  }
  for (const Line& l : lines) {
    std::string text;
    for (size_t c = 0; c < columns; ++c) {
      std::string pad(width[c] - l[c].size(), ' ');
      if (c > 0) {
        text += "  ";
      }
      text += numeric[c] ? pad + l[c] : (c + 1 < columns ? l[c] + pad : l[c]);
    }
    out << text << '\n';
  }
  if (rows.empty()) {
    out << "(no leaf cgroups)\n";
  }
}

void print_json(std::ostream& out, const std::vector<ReportRow>& rows, bool dry_run) {
  using nlohmann::ordered_json;
  const auto bytes = [](const std::optional<uint64_t>& v) {
    return v ? ordered_json(*v) : ordered_json(nullptr);
  };
  ordered_json list = ordered_json::array();
  for (const ReportRow& row : rows) {
    ordered_json j;
    j["cgroup"] = row.name;
    j["namespace"] = row.namespace_name;
    j["pod"] = row.pod;
    j["container"] = row.container;
    j["pod_uid"] = row.pod_uid;
    j["container_id"] = row.container_id;
    j["qos"] = row.qos;
    j["rule"] = row.rule;
    if (row.stats) {
      j["cache_bytes"] = row.stats->cache_bytes;
      j["shmem_bytes"] = row.stats->shmem_bytes;
      j["limit_bytes"] = bytes(row.stats->limit_bytes);
      j["limit_kind"] = row.stats->limit_bytes
                            ? ordered_json(core::to_string(row.stats->limit_kind))
                            : ordered_json(nullptr);
      j["threshold_bytes"] = bytes(row.decision.threshold_bytes);
      j["refault_bytes"] = row.stats->refault_bytes;
      j["action"] = row.decision.action == core::Action::kReclaim
                        ? (dry_run ? "would_reclaim" : "reclaim")
                        : "none";
      j["reason"] = core::to_string(row.decision.reason);
    } else {
      j["action"] = "none";
      j["error"] = row.error;
    }
    if (row.outcome) {
      const core::ReclaimOutcome& o = *row.outcome;
      j["result"] = core::to_string(o.result);
      j["cache_after_bytes"] = bytes(o.cache_after_bytes);
      j["freed_bytes"] = o.freed_bytes();
      j["duration_seconds"] = std::chrono::duration<double>(o.took).count();
      if (!o.error.empty()) {
        j["error"] = o.error;
      }
    }
    list.push_back(std::move(j));
  }
  ordered_json doc;
  doc["dry_run"] = dry_run;
  doc["cgroups"] = std::move(list);
  out << doc.dump(2) << '\n';
}

}  // namespace cgmm::obs
