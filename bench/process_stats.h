// What the benchmarks read about a process from Linux's /proc: CPU time and
// memory. Used on the server under test (by pid) and on the load generator
// itself (pid 0 or getpid()).

#ifndef CITEKB_BENCH_PROCESS_STATS_H_
#define CITEKB_BENCH_PROCESS_STATS_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace citekb {

struct ProcessMemory {
  int64_t rss_kb = 0;       // VmRSS: resident now.
  int64_t peak_rss_kb = 0;  // VmHWM: the most it has been resident.
};

// User + system CPU seconds the process has used so far (/proc/PID/stat).
// NOT_FOUND when the process does not exist.
absl::StatusOr<double> ProcessCpuSeconds(int pid);

// From /proc/PID/status. NOT_FOUND when the process does not exist.
absl::StatusOr<ProcessMemory> ReadProcessMemory(int pid);

}  // namespace citekb

#endif  // CITEKB_BENCH_PROCESS_STATS_H_
