#include "service/request_log.h"

#include <cstdint>

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

// Appends `s` as a JSON string literal, quotes included.
void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
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
        if (c < 0x20 || c == 0x7F) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

}  // namespace

RequestLog::RequestLog(std::ostream* out, bool log_questions)
    : log_questions_(log_questions), out_(out) {}

std::string RequestLog::Format(const RequestLogEntry& entry) const {
  std::string line = "{\"ts\":";
  AppendJsonString(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", entry.start,
                                    absl::UTCTimeZone()),
                   &line);
  absl::StrAppend(&line, ",\"method\":");
  AppendJsonString(entry.method, &line);
  absl::StrAppend(&line, ",\"status\":");
  AppendJsonString(absl::StatusCodeToString(entry.code), &line);
  absl::StrAppendFormat(&line, ",\"latency_ms\":%.3f,\"request_bytes\":%d",
                        absl::ToDoubleMilliseconds(entry.latency),
                        entry.request_bytes);
  absl::StrAppend(&line, ",\"peer\":");
  AppendJsonString(entry.peer, &line);
  if (log_questions_ && entry.question.has_value()) {
    absl::StrAppend(&line, ",\"question\":");
    AppendJsonString(*entry.question, &line);
  }
  line.push_back('}');
  return line;
}

void RequestLog::Record(const RequestLogEntry& entry) {
  std::string line = Format(entry);
  line.push_back('\n');
  absl::MutexLock lock(&mu_);
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  out_->flush();
}

}  // namespace citekb
