#include "bench/process_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace citekb {

absl::StatusOr<double> ProcessCpuSeconds(int pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  std::ifstream in(path);
  std::string stat;
  if (!in || !std::getline(in, stat)) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  // "pid (comm) state ..."; comm may hold spaces, so fields are counted
  // from the closing parenthesis: utime and stime are fields 14 and 15.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) {
    return absl::DataLossError(absl::StrCat(path, ": unexpected format"));
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
  int64_t utime = 0, stime = 0;
  // After ") " the first field is field 3 (state).
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::DataLossError(absl::StrCat(path, ": unexpected format"));
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

absl::StatusOr<ProcessMemory> ReadProcessMemory(int pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  ProcessMemory memory;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view view = line;
    int64_t* field = nullptr;
    if (absl::ConsumePrefix(&view, "VmRSS:")) field = &memory.rss_kb;
    if (absl::ConsumePrefix(&view, "VmHWM:")) field = &memory.peak_rss_kb;
    if (field == nullptr) continue;
    view = absl::StripAsciiWhitespace(view);
    absl::ConsumeSuffix(&view, "kB");
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(view), field)) {
      return absl::DataLossError(
          absl::StrCat(path, ": unexpected line ", line));
    }
  }
  return memory;
}

}  // namespace citekb
