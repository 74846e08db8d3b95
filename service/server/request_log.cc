#include "service/server/request_log.h"

#include <climits>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace citekb {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes
// there are not one (overlong forms, surrogates and values above U+10FFFF
// included), so the output is always valid JSON whatever the peer sent.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// True for the bytes a JSON string may hold as they are: printable ASCII
// other than the quote and the backslash.
bool IsPlainJsonByte(uint8_t c) {
  return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

// Appends `s` as a JSON string literal, quotes included.
void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    // Runs of plain bytes, all of a typical line, are copied at once.
    size_t plain = i;
    while (plain < s.size() &&
           IsPlainJsonByte(static_cast<uint8_t>(s[plain]))) {
      ++plain;
    }
    out->append(s.data() + i, plain - i);
    i = plain;
    if (i == s.size()) break;
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        absl::StrAppend(out, "\\ufffd");
        ++i;
      } else {
        out->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        absl::StrAppend(out, "\\\"");
        break;
      case '\\':
        absl::StrAppend(out, "\\\\");
        break;
      case '\n':
        absl::StrAppend(out, "\\n");
        break;
      case '\r':
        absl::StrAppend(out, "\\r");
        break;
      case '\t':
        absl::StrAppend(out, "\\t");
        break;
      default:
        absl::StrAppendFormat(out, "\\u%04x", c);
    }
    ++i;
  }
  out->push_back('"');
}

// Appends `digits` decimal digits of `value` (>= 0), zero-padded.
void AppendDigits(int64_t value, int digits, std::string* out) {
  char buffer[20];
  for (int k = digits - 1; k >= 0; --k) {
    buffer[k] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out->append(buffer, static_cast<size_t>(digits));
}

// Appends `t` as a JSON string "2025-11-25T08:01:02.345Z" (UTC, milliseconds
// rounded down), exactly as absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t,
// absl::UTCTimeZone()) writes it: that parses its format and looks up the
// time zone on every call, which was a third of the cost of a line.
void AppendTimestamp(absl::Time t, std::string* out) {
  constexpr int64_t kMillisPerDay = 86'400'000;
  const int64_t ms = absl::ToUnixMillis(t);  // Rounded down, as %E3S does.
  int64_t days = ms / kMillisPerDay;
  int64_t ms_of_day = ms % kMillisPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMillisPerDay;
    --days;
  }
  // Civil date of a day count since 1970-01-01, proleptic Gregorian
  // (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
  const int64_t z = days + 719'468;
  const int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const int64_t day_of_era = z - era * 146'097;
  const int64_t year_of_era = (day_of_era - day_of_era / 1'460 +
                               day_of_era / 36'524 - day_of_era / 146'096) /
                              365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t shifted_month = (5 * day_of_year + 2) / 153;  // March is 0.
  const int64_t day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const int64_t month =
      shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1000 || year > 9999) {
    // Not four digits (FormatTime does not pad them) or an infinite time:
    // rare enough for the general way.
    AppendJsonString(
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()), out);
    return;
  }
  out->push_back('"');
  AppendDigits(year, 4, out);
  out->push_back('-');
  AppendDigits(month, 2, out);
  out->push_back('-');
  AppendDigits(day, 2, out);
  out->push_back('T');
  AppendDigits(ms_of_day / 3'600'000, 2, out);
  out->push_back(':');
  AppendDigits(ms_of_day / 60'000 % 60, 2, out);
  out->push_back(':');
  AppendDigits(ms_of_day / 1'000 % 60, 2, out);
  out->push_back('.');
  AppendDigits(ms_of_day % 1'000, 3, out);
  out->append("Z\"");
}

// Appends `d` in milliseconds with three decimals ("1.234"), rounded to the
// nearest microsecond, as "%.3f" of absl::ToDoubleMilliseconds(d) does
// (but for exact ties), without a printf-style formatter.
void AppendMilliseconds(absl::Duration d, std::string* out) {
  int64_t ns = absl::ToInt64Nanoseconds(d);  // Saturates; fine for a log.
  if (ns < 0) {
    out->push_back('-');
    ns = ns == INT64_MIN ? INT64_MAX : -ns;
  }
  const int64_t us = ns / 1'000 + (ns % 1'000 >= 500 ? 1 : 0);
  absl::StrAppend(out, us / 1'000);
  out->push_back('.');
  AppendDigits(us % 1'000, 3, out);
}

}  // namespace

RequestLog::RequestLog(std::ostream* out, const RequestLogOptions& options)
    : options_(options), out_(out) {
  writer_ = std::thread([this] { WriteBatches(); });
}

RequestLog::~RequestLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_writer_.Signal();
  }
  writer_.join();
}

std::string RequestLog::Format(const RequestLogEntry& entry) const {
  std::string line;
  line.reserve(160 + entry.peer.size() +
               (entry.question.has_value() ? entry.question->size() : 0));
  line.append("{\"ts\":");
  AppendTimestamp(entry.start, &line);
  line.append(",\"method\":");
  AppendJsonString(entry.method, &line);
  line.append(",\"status\":");
  AppendJsonString(absl::StatusCodeToString(entry.code), &line);
  line.append(",\"latency_ms\":");
  AppendMilliseconds(entry.latency, &line);
  absl::StrAppend(&line, ",\"request_bytes\":", entry.request_bytes,
                  ",\"peer\":");
  AppendJsonString(entry.peer, &line);
  if (options_.log_questions && entry.question.has_value()) {
    line.append(",\"question\":");
    AppendJsonString(*entry.question, &line);
  }
  line.push_back('}');
  return line;
}

void RequestLog::Record(const RequestLogEntry& entry) {
  WriteLine(Format(entry));
}

void RequestLog::WriteLine(std::string line) {
  absl::MutexLock lock(&mu_);
  while (pending_.size() >= options_.max_pending_bytes) room_.Wait(&mu_);
  // The writer sleeps until a first line arrives, then gathers a batch for
  // one interval unless it fills first: one wake-up per batch, not per line.
  const bool first = pending_.empty();
  pending_.append(line).push_back('\n');
  ++appended_;
  if (first || pending_.size() >= kBatchBytes) wake_writer_.Signal();
}

void RequestLog::WriteBatches() {
  std::string batch;
  absl::MutexLock lock(&mu_);
  while (true) {
    while (pending_.empty() && !stopping_) wake_writer_.Wait(&mu_);
    if (pending_.empty()) return;  // Stopping, and everything is written.
    const absl::Time due = absl::Now() + options_.flush_interval;
    while (!stopping_ && !flush_now_ && pending_.size() < kBatchBytes &&
           !wake_writer_.WaitWithDeadline(&mu_, due)) {
    }
    // The buffers swap, so that pending_ reuses the capacity of what was
    // written.
    batch.swap(pending_);
    const uint64_t upto = appended_;
    flush_now_ = false;
    room_.SignalAll();
    // Outside the lock: lines keep arriving while the stream is written.
    mu_.Unlock();
    out_->write(batch.data(), static_cast<std::streamsize>(batch.size()));
    out_->flush();
    batch.clear();
    mu_.Lock();
    written_ = upto;
    written_more_.SignalAll();
  }
}

void RequestLog::Flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t upto = appended_;
  if (written_ >= upto) return;
  flush_now_ = true;
  wake_writer_.Signal();
  while (written_ < upto) written_more_.Wait(&mu_);
}

}  // namespace citekb
