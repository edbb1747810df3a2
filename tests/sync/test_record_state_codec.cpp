// Unit tests of how the server's stores keep a record's field versions
// (server-stub/store/record_state_codec.h): the text writer must give back exactly
// what it was given, whatever the values hold.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "record_state_codec.h"  // the server's own code (server-stub/store/)
#include "kehu/error.h"

using kehu::json;
using kehu::server::decode_field_versions;
using kehu::server::encode_field_versions;
using kehu::server::parse_stored;
using kehu::sync::FieldVersion;

namespace {

FieldVersion version(json value, std::int64_t rev, std::string device, std::string author) {
  FieldVersion fv;
  fv.value = std::move(value);
  fv.rev = rev;
  fv.hlc = 117893412393254912 + rev;
  fv.device = std::move(device);
  fv.device_seq = rev * 7;
  fv.author = std::move(author);
  return fv;
}

void require_same(const std::map<std::string, FieldVersion>& a,
                  const std::map<std::string, FieldVersion>& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [key, fv] : a) {
    auto it = b.find(key);
    REQUIRE(it != b.end());
    CHECK(it->second.value == fv.value);
    CHECK(it->second.rev == fv.rev);
    CHECK(it->second.hlc == fv.hlc);
    CHECK(it->second.device == fv.device);
    CHECK(it->second.device_seq == fv.device_seq);
    CHECK(it->second.author == fv.author);
  }
}

}  // namespace

TEST_CASE("record state: field versions written as text read back exactly", "[codec]") {
  std::map<std::string, FieldVersion> fields;
  fields["name"] = version("远景物流 \"总部\"\\上海\n二部", 1, "dev-a", "王五");
  fields["phone"] = version("13900139000", 4, "0190a1b2-c3d4", "wang");
  fields["amount"] = version(1234567890123, 2, "dev-b", "li");
  fields["rate"] = version(0.125, 3, "dev-b", "li");
  fields["tags"] = version(json::array({"重点", "华东", "tab\there"}), 5, "dev-c", "zhao");
  fields["extra"] = version(json{{"a", json::array({1, 2})}, {"b", nullptr}}, 6, "dev-c", "zhao");
  fields["deleted"] = version(false, 7, "server", "admin");
  fields["note"] = version(nullptr, 8, "dev-\x01ctl", "a\"b");
  fields["键 with space"] = version("", 9, "", "");

  const std::string text = encode_field_versions(fields);
  require_same(fields, decode_field_versions(parse_stored(text, "record state")));

  // The same JSON as a tree of the documented shape would give.
  json tree = json::object();
  for (const auto& [key, fv] : fields) {
    tree[key] = {
        {"value", fv.value},           {"rev", fv.rev},      {"hlc", fv.hlc}, {"device", fv.device},
        {"device_seq", fv.device_seq}, {"author", fv.author}};
  }
  CHECK(json::parse(text) == tree);
}

TEST_CASE("record state: no field versions is an empty object", "[codec]") {
  const std::string text = encode_field_versions({});
  CHECK(text == "{}");
  CHECK(decode_field_versions(parse_stored(text, "record state")).empty());
}

TEST_CASE("record state: a damaged state is a storage error, not a crash", "[codec]") {
  CHECK_THROWS_AS(decode_field_versions(parse_stored(R"({"name": {"value": 1}})", "record state")),
                  kehu::Error);
  CHECK_THROWS_AS(parse_stored("{\"name\":", "record state"), kehu::Error);
  CHECK_THROWS_AS(decode_field_versions(json::array()), kehu::Error);
}
