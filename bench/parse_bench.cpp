// The parsers on the hot path of every scan.
#include <benchmark/benchmark.h>

#include <string>

#include "cgroup/memory_stat.h"
#include "core/units.h"

namespace {

std::string v1_text() {
  std::string s =
      "cache 1234567\nrss 0\nrss_huge 0\nshmem 0\nmapped_file 0\ndirty 0\nwriteback 0\n"
      "swap 0\npgpgin 10\npgpgout 5\npgfault 100\npgmajfault 0\ninactive_anon 0\n"
      "active_anon 0\ninactive_file 1000\nactive_file 2000\nunevictable 0\n"
      "hierarchical_memory_limit 104857600\nhierarchical_memsw_limit 9223372036854771712\n";
  for (const char* k : {"cache", "rss", "rss_huge", "shmem", "mapped_file", "dirty", "writeback",
                        "swap", "pgpgin", "pgpgout", "pgfault", "pgmajfault", "inactive_anon",
                        "active_anon", "inactive_file", "active_file", "unevictable"}) {
    s += std::string("total_") + k + " 0\n";
  }
  return s;
}

std::string v2_text() {
  std::string s =
      "anon 0\nfile 1234567\nkernel 0\nkernel_stack 0\npagetables 0\n"
      "sec_pagetables 0\npercpu 0\nsock 0\nvmalloc 0\nshmem 4096\n";
  for (const char* k : {"zswap",
                        "zswapped",
                        "file_mapped",
                        "file_dirty",
                        "file_writeback",
                        "swapcached",
                        "anon_thp",
                        "file_thp",
                        "shmem_thp",
                        "inactive_anon",
                        "active_anon",
                        "inactive_file",
                        "active_file",
                        "unevictable",
                        "slab_reclaimable",
                        "slab_unreclaimable",
                        "slab",
                        "workingset_refault_anon",
                        "workingset_refault_file",
                        "pgfault",
                        "pgmajfault"}) {
    s += std::string(k) + " 0\n";
  }
  return s;
}

void bench_parse_memory_stat_v1(benchmark::State& state) {
  const std::string text = v1_text();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's loop
    benchmark::DoNotOptimize(cgmm::cgroup::parse_memory_stat(text, cgmm::cgroup::Version::kV1));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(bench_parse_memory_stat_v1);

void bench_parse_memory_stat_v2(benchmark::State& state) {
  const std::string text = v2_text();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's loop
    benchmark::DoNotOptimize(cgmm::cgroup::parse_memory_stat(text, cgmm::cgroup::Version::kV2));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(bench_parse_memory_stat_v2);

void bench_parse_memory_max(benchmark::State& state) {
  const std::string text = "104857600\n";
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's loop
    benchmark::DoNotOptimize(cgmm::cgroup::parse_memory_max(text));
  }
}
BENCHMARK(bench_parse_memory_max);

void bench_parse_size(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's loop
    benchmark::DoNotOptimize(cgmm::core::parse_size("1.5GiB"));
  }
}
BENCHMARK(bench_parse_size);

}  // namespace
