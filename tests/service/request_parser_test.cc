#include "service/server/request_parser.h"

#include <string>

#include "citekb/v1/knowledge_base.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/base/utf8.h"

namespace citekb {
namespace {

using ::testing::HasSubstr;

std::string BytesField(int number, const std::string& value) {
  // Tags and lengths below 128 fit one byte, enough for these tables.
  return std::string(1, static_cast<char>((number << 3) | 2)) +
         static_cast<char>(value.size()) + value;
}

TEST(IsStructurallyValidUtf8Test, Table) {
  const struct {
    std::string text;
    bool valid;
  } kCases[] = {
      {"", true},
      {"plain ASCII", true},
      {"vitamin K\xE2\x82\x82 5000\xC2\xB5g", true},  // K₂, µ
      {"\xF0\x9F\x98\x80", true},                     // U+1F600
      {"\xF4\x8F\xBF\xBF", true},                     // U+10FFFF
      {"\xEF\xBB\xBF", true},                         // BOM: valid, if odd
      {"\xFF", false},
      {"\x80", false},                  // lone continuation byte
      {"\xC0\xAF", false},              // overlong '/'
      {"\xE0\x80\xAF", false},          // overlong '/'
      {"\xED\xA0\x80", false},          // surrogate U+D800
      {"\xF4\x90\x80\x80", false},      // U+110000
      {"\xE2\x82", false},              // cut off
      {"ok \xC3", false},               // cut off at the end
      {"\xC3\x28", false},              // bad continuation
      {"\xF8\x88\x80\x80\x80", false},  // 5-byte form
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(IsStructurallyValidUtf8(c.text), c.valid)
        << testing::PrintToString(c.text);
  }
}

TEST(ParseRequestTest, ParsesAValidRequest) {
  v1::AskRequest sent;
  sent.set_question("why K2?");
  sent.add_history()->set_text("D3");
  sent.set_max_passages(3);
  v1::AskRequest parsed;
  parsed.set_question("left over from before");
  ASSERT_TRUE(ParseRequest(sent.SerializeAsString(), &parsed).ok());
  EXPECT_EQ(parsed.SerializeAsString(), sent.SerializeAsString());
}

TEST(ParseRequestTest, EmptyBytesAreAnEmptyRequest) {
  v1::GetSectionRequest parsed;
  EXPECT_TRUE(ParseRequest("", &parsed).ok());
  EXPECT_EQ(parsed.id(), "");
}

TEST(ParseRequestTest, NamesTheFieldThatIsNotUtf8) {
  const std::string turn_ok = BytesField(2, "K2");
  const std::string turn_bad = BytesField(2, "\xFF");
  const struct {
    std::string bytes;
    std::string message;
  } kCases[] = {
      {BytesField(1, "why \xFF"), "question: is not valid UTF-8"},
      {BytesField(1, "ok") + BytesField(2, turn_bad),
       "history[0].text: is not valid UTF-8"},
      {BytesField(2, turn_ok) + BytesField(2, turn_ok) +
           BytesField(2, turn_bad),
       "history[2].text: is not valid UTF-8"},
      // Unknown fields may hold any bytes.
      {BytesField(15, "\xFF") + BytesField(1, "\xC0\xAF"),
       "question: is not valid UTF-8"},
  };
  for (const auto& c : kCases) {
    v1::AskRequest parsed;
    const absl::Status status = ParseRequest(c.bytes, &parsed);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(ParseRequestTest, UnknownFieldsWithAnyBytesAreIgnored) {
  v1::AskRequest parsed;
  EXPECT_TRUE(
      ParseRequest(BytesField(15, "\xFF\xFE") + BytesField(1, "ok"), &parsed)
          .ok());
  EXPECT_EQ(parsed.question(), "ok");
}

TEST(ParseRequestTest, MalformedEncodingNamesTheType) {
  const std::string kCases[] = {
      "\x08",      // tag without a value
      "\x08\xFF",  // truncated varint
      "\x0A\x05"
      "ab",                        // length past the end
      "\x0B",                      // start group, never ended
      "\x0C",                      // end group out of nowhere
      std::string("\x00\x01", 2),  // field number 0
      "\x0F",                      // wire type 7
      "\x12\x03\x0A\x05x",         // history turn whose text overruns it
  };
  for (const std::string& bytes : kCases) {
    v1::AskRequest parsed;
    const absl::Status status = ParseRequest(bytes, &parsed);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << testing::PrintToString(bytes);
    EXPECT_THAT(status.message(),
                HasSubstr("request: is not a valid citekb.v1.AskRequest"));
  }
}

}  // namespace
}  // namespace citekb
