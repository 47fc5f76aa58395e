#include "obs/backoff_events.h"

#include "obs/event_fields.h"

namespace cgmm::obs {

namespace {

using core::format_bytes;
using core::format_duration;

// "80.0 MiB freed, 72.0 MiB of it read back within 1.2s"
std::string came_back(const core::RefaultNews::Judgment& j) {
  return format_bytes(j.freed_bytes) + " freed, " + format_bytes(j.refaulted_bytes) +
         " of it read back within " + format_duration(j.within);
}

void judgment_fields(Json& j, const core::RefaultNews& news) {
  leaf_fields(j, news.name, news.context);
  j["freed_bytes"] = news.judged->freed_bytes;
  j["refaulted_bytes"] = news.judged->refaulted_bytes;
  j["refault_seconds"] = seconds(news.judged->within);
}

}  // namespace

std::string DecisionBackoff::text() const {
  const core::MemoryStats stats = leaf.stats.value_or(core::MemoryStats{});
  std::string s = display_ruled(leaf.name, leaf.context) + ": " + core::to_string(reason) +
                  " (cache " + format_bytes(stats.cache_bytes);
  if (reason == core::Reason::kBackoff) {
    s += ", shmem " + format_bytes(stats.shmem_bytes);
  }
  return s + ")";
}

void DecisionBackoff::fields(Json& j) const {
  leaf_fields(j, leaf.name, leaf.context);
  j["reason"] = core::to_string(reason);
}

std::string ReclaimBackoff::text() const {
  const core::ReclaimOutcome& o = outcome;
  const std::string shmem = o.shmem_after_bytes ? format_bytes(*o.shmem_after_bytes) : "unknown";
  return "reclaim of " + display(o.name, o.context) + " freed only " +
         format_bytes(o.freed_bytes()) + " of " + format_bytes(o.target_bytes) + " (cache " +
         format_bytes(o.cache_after_bytes.value_or(0)) + " left, of which shmem " + shmem +
         "): its cache is probably shmem/tmpfs, which reclaim cannot free without swap; backing "
         "off, next reclaim in " +
         format_duration(change.wait) + " at the earliest, doubling up to " +
         format_duration(longest_wait) +
         " while reclaims keep freeing under a tenth of their target";
}

void ReclaimBackoff::fields(Json& j) const {
  const core::ReclaimOutcome& o = outcome;
  leaf_fields(j, o.name, o.context);
  j["freed_bytes"] = o.freed_bytes();
  j["target_bytes"] = o.target_bytes;
  j["cache_after_bytes"] = optional_json(o.cache_after_bytes);
  j["shmem_bytes"] = optional_json(o.shmem_after_bytes);
  j["backoff_streak"] = change.streak;
  j["backoff_seconds"] = seconds(change.wait);
}

std::string ReclaimBackoffLonger::text() const {
  const core::ReclaimOutcome& o = outcome;
  const std::string shmem = o.shmem_after_bytes ? format_bytes(*o.shmem_after_bytes) : "unknown";
  return "reclaim of " + display(o.name, o.context) + " freed only " +
         format_bytes(o.freed_bytes()) + " again (shmem " + shmem + "); next reclaim in " +
         format_duration(change.wait) + " at the earliest";
}

void ReclaimBackoffLonger::fields(Json& j) const {
  leaf_fields(j, outcome.name, outcome.context);
  j["freed_bytes"] = outcome.freed_bytes();
  j["backoff_streak"] = change.streak;
  j["backoff_seconds"] = seconds(change.wait);
}

std::string ReclaimRefaulted::text() const {
  const core::RefaultNews::Judgment& j = *news.judged;
  return "reclaim of " + display(news.name, news.context) + " did not help: " + came_back(j) +
         "; its cache is in use (hot cache), and reclaiming it only costs disk reads; backing "
         "off, next reclaim in " +
         format_duration(j.next_in) + " at the earliest, doubling up to " +
         format_duration(longest_wait) + " while half of what reclaims free comes back";
}

void ReclaimRefaulted::fields(Json& j) const {
  judgment_fields(j, news);
  j["backoff_streak"] = news.judged->change.streak;
  j["backoff_seconds"] = seconds(news.judged->change.wait);
}

std::string ReclaimRefaultedAgain::text() const {
  const core::RefaultNews::Judgment& j = *news.judged;
  return "reclaim of " + display(news.name, news.context) + " did not help again: " + came_back(j) +
         "; next reclaim in " + format_duration(j.next_in) + " at the earliest";
}

void ReclaimRefaultedAgain::fields(Json& j) const {
  judgment_fields(j, news);
  j["backoff_streak"] = news.judged->change.streak;
  j["backoff_seconds"] = seconds(news.judged->change.wait);
}

std::string ReclaimBackoffEnded::text() const {
  const core::RefaultNews::Judgment& j = *news.judged;
  return "reclaim of " + display(news.name, news.context) + " helped again: " + came_back(j) +
         "; back to the cooldown of " + format_duration(j.change.wait);
}

void ReclaimBackoffEnded::fields(Json& j) const {
  judgment_fields(j, news);
}

}  // namespace cgmm::obs
