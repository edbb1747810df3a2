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

TEST_CASE("record state: tag members, open conflicts and a merge's forwarding read back", "[codec]") {
  std::map<std::string, FieldVersion> fields;
  fields["tags"] = version(json::array({"x"}), 5, "dev-c", "zhao");
  auto member = [](bool present, std::int64_t rev, std::int64_t hlc, std::string device, std::int64_t seq,
                   std::string author) {
    kehu::sync::MemberVersion mv;
    mv.present = present;
    mv.rev = rev;
    mv.hlc = hlc;
    mv.device = std::move(device);
    mv.device_seq = seq;
    mv.author = std::move(author);
    return mv;
  };
  fields["tags"].members["x"] = member(true, 5, 500, "dev-c", 3, "zhao");
  fields["tags"].members["x"].also.push_back(kehu::sync::Write{4, 450, "dev-b", 7, "li"});
  fields["tags"].members["重点 \"客户\""] = member(false, 4, 400, "dev-a", 1, "wang");
  fields["tags"].also.push_back(kehu::sync::Write{3, 300, "dev-d", 2, "qian"});
  kehu::Conflict k;
  k.field = "tags";
  k.kind = "tag";
  k.member = "x";
  k.kept = true;
  k.lost = false;
  k.kept_author = "zhao";
  k.lost_author = "wang";
  k.kept_hlc = 500;
  k.lost_hlc = 400;
  fields["tags"].open.push_back(kehu::sync::Unsettled{5, 4, k, false});
  fields["tags"].open.push_back(kehu::sync::Unsettled{6, 5, k, true});
  fields["deleted"] = version(true, 6, "server", "admin");

  const std::string text = encode_field_versions(fields, "0b7d2c9e-0000-4000-8000-000000000009", 12);
  std::string merged_into;
  std::int64_t merged_rev = 0;
  const auto back = decode_field_versions(parse_stored(text, "record state"), &merged_into, &merged_rev);
  require_same(fields, back);
  CHECK(merged_into == "0b7d2c9e-0000-4000-8000-000000000009");
  CHECK(merged_rev == 12);
  const auto& tags = back.at("tags");
  REQUIRE(tags.members.size() == 2);
  CHECK(tags.members.at("x").present);
  CHECK(tags.members.at("x").device_seq == 3);
  CHECK_FALSE(tags.members.at("重点 \"客户\"").present);
  REQUIRE(tags.members.at("x").also.size() == 1);
  CHECK(tags.members.at("x").also[0].author == "li");
  CHECK(tags.members.at("x").also[0].hlc == 450);
  REQUIRE(tags.also.size() == 1);
  CHECK(tags.also[0].device == "dev-d");
  CHECK(tags.also[0].rev == 3);
  CHECK(tags.members.at("重点 \"客户\"").author == "wang");
  REQUIRE(tags.open.size() == 2);
  CHECK_FALSE(tags.open[0].hidden);
  CHECK(tags.open[1].hidden);
  CHECK(tags.open[0].rev == 5);
  CHECK(tags.open[0].lost_rev == 4);
  CHECK(kehu::to_json(tags.open[0].conflict) == kehu::to_json(k));
  // Without a forwarding address there is no such member, and "@" keys are not fields.
  CHECK(json::parse(encode_field_versions(fields)).count("@merged_into") == 0);
  CHECK(back.count("@merged_into") == 0);
}
