// The server answers each request in the language its Accept-Language header
// asks for: the "message" of an error (and of a refused change in a push result)
// is Chinese for zh-CN, English otherwise, while the "code" never changes.
//
// The fixture's team (server_fixture.h): root admin, zhao manager of 江苏, wang
// and li sales in 江苏, audit auditor.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <string>

#include "kehu/lang.h"
#include "server_fixture.h"

using kehu::test::hlc_now;
using kehu::test::make_change;
using kehu::test::new_customer_fields;
using kehu::test::ServerFixture;
using json = nlohmann::json;
using Catch::Matchers::Contains;

namespace {

struct Answer {
  int status = 0;
  json body;
};

// POSTs `body` as is to `path` with the given Accept-Language (none when
// empty) and token.
Answer post_in(ServerFixture& s, const std::string& lang, const std::string& path, const std::string& body,
               const std::string& token = {}) {
  httplib::Client c = s.client();
  c.set_connection_timeout(20);
  c.set_read_timeout(20);
  httplib::Headers headers;
  if (!lang.empty()) headers.emplace("Accept-Language", lang);
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  auto r = c.Post(path, headers, body, "application/json");
  REQUIRE(r);
  Answer a;
  a.status = r->status;
  a.body = json::parse(r->body, nullptr, false);
  INFO(r->body);
  REQUIRE(!a.body.is_discarded());
  return a;
}

// Pushes one change as `token`'s user from `device` and returns its result.
json push_in(ServerFixture& s, const std::string& lang, const std::string& token, const std::string& device,
             const json& change) {
  Answer a = post_in(s, lang, "/v1/push", json{{"device", device}, {"changes", {change}}}.dump(), token);
  REQUIRE(a.status == 200);
  REQUIRE(a.body["results"].size() == 1);
  return a.body["results"][0];
}

std::string message_of(const json& j) { return j.at("error").at("message").get<std::string>(); }
std::string code_of(const json& j) { return j.at("error").at("code").get<std::string>(); }

}  // namespace

TEST_CASE("lang: Accept-Language picks Chinese or English by q-value", "[core][lang]") {
  using kehu::Lang;
  using kehu::lang_from_accept_language;
  CHECK(lang_from_accept_language("zh-CN") == Lang::zh);
  CHECK(lang_from_accept_language("zh-CN, en;q=0.5") == Lang::zh);
  CHECK(lang_from_accept_language("en-US,zh;q=0.8") == Lang::en);
  CHECK(lang_from_accept_language("en;q=0.3, ZH-tw;q=0.9") == Lang::zh);
  CHECK(lang_from_accept_language("zh;q=0") == Lang::en);
  CHECK(lang_from_accept_language("fr, de") == Lang::en);
  CHECK(lang_from_accept_language("") == Lang::en);
  // The thread's language comes back after a scope.
  kehu::set_message_lang(Lang::en);
  {
    kehu::MessageLangScope zh(Lang::zh);
    CHECK(kehu::tr("a", "甲") == "甲");
  }
  CHECK(kehu::tr("a", "甲") == "a");
}

TEST_CASE("lang: a wrong password is refused in the language the request asks for", "[server][lang]") {
  ServerFixture s;
  const std::string body = json{{"user", "wang"}, {"password", "not the password"}, {"device", "dev-zh"}}.dump();
  Answer zh = post_in(s, "zh-CN,zh;q=0.9", "/v1/login", body);
  Answer en = post_in(s, "en", "/v1/login", body);
  Answer none = post_in(s, "", "/v1/login", body);
  CHECK(zh.status == 401);
  CHECK(zh.status == en.status);
  CHECK(none.status == 401);
  CHECK(code_of(zh.body) == "unauthorized");
  CHECK(code_of(zh.body) == code_of(en.body));
  CHECK(code_of(none.body) == "unauthorized");
  CHECK(message_of(zh.body) == "用户名或密码不对，或账号已停用");
  CHECK(message_of(en.body) == "wrong user or password, or the account is disabled");
  CHECK_THAT(message_of(none.body), Contains("wrong user or password"));
}

TEST_CASE("lang: a malformed body is refused in Chinese for zh-CN, with the same code", "[server][lang]") {
  ServerFixture s;
  const std::string token = s.login("wang");
  Answer zh = post_in(s, "zh-CN, en;q=0.5", "/v1/push", "{not json", token);
  Answer en = post_in(s, "en", "/v1/push", "{not json", token);
  CHECK(zh.status == 400);
  CHECK(en.status == 400);
  CHECK(code_of(zh.body) == "protocol");
  CHECK(code_of(en.body) == "protocol");
  CHECK_THAT(message_of(zh.body), Contains("请求体不是 JSON"));
  CHECK_THAT(message_of(en.body), Contains("body is not JSON"));

  Answer no_changes_zh = post_in(s, "zh-CN", "/v1/push", json{{"device", "dev-test"}}.dump(), token);
  CHECK(code_of(no_changes_zh.body) == "protocol");
  CHECK_THAT(message_of(no_changes_zh.body), Contains("推送需要一个 \"changes\" 数组"));
}

TEST_CASE("lang: refused changes in a push say why in the salesperson's language", "[server][lang]") {
  ServerFixture s;

  SECTION("an auditor may not change records") {
    // Refused by role from the headers, before the body is read (403).
    const std::string token = s.login("audit", "dev-audit");
    auto push = [&](const std::string& lang, const std::string& id) {
      const json change = make_change(id, "rec-" + id, "create", 0, hlc_now(), "dev-audit", 1,
                                      new_customer_fields("客户 " + id));
      Answer a = post_in(s, lang, "/v1/push", json{{"device", "dev-audit"}, {"changes", {change}}}.dump(), token);
      CHECK(a.status == 403);
      return a.body;
    };
    const json zh = push("zh-CN", "lang-zh-1");
    const json en = push("en", "lang-en-1");
    CHECK(code_of(zh) == "forbidden");
    CHECK(code_of(en) == "forbidden");
    CHECK_THAT(message_of(zh), Contains("不能上传修改"));
    CHECK_THAT(message_of(en), Contains("may not push changes"));
  }

  SECTION("an unknown collection") {
    const std::string token = s.login("wang", "dev-wang");
    auto push = [&](const std::string& lang, const std::string& id) {
      return push_in(s, lang, token, "dev-wang",
                     make_change(id, "rec-" + id, "create", 0, hlc_now(), "dev-wang", 1,
                                 new_customer_fields("客户 " + id), "no_such_table"));
    };
    const json zh = push("zh-CN", "lang-zh-2");
    const json en = push("en", "lang-en-2");
    CHECK(code_of(zh) == "validation");
    CHECK(code_of(en) == "validation");
    CHECK(message_of(zh) == "未知的表“no_such_table”");
    CHECK(message_of(en) == "unknown collection \"no_such_table\"");
  }

  SECTION("a restricted field") {
    // A salesperson's new customer with a restricted field. Without the header
    // the refusal is English: the language is the request's, not left over from
    // the thread's last request.
    const std::string token = s.login("wang", "dev-w");
    json fields = new_customer_fields("戊公司");
    fields["credit_rating"] = {{"old", nullptr}, {"new", "A"}};
    const json zh = push_in(s, "zh-CN", token, "dev-w", make_change("c-zh", "rec-zh", "create", 0, hlc_now(), "dev-w", 1, fields));
    const json none = push_in(s, "", token, "dev-w", make_change("c-en", "rec-en", "create", 0, hlc_now(), "dev-w", 2, fields));
    CHECK(zh["status"] == "rejected");
    CHECK(code_of(zh) == "forbidden");
    CHECK_THAT(message_of(zh), Contains("受限字段") && Contains("销售"));
    CHECK(code_of(none) == "forbidden");
    CHECK_THAT(message_of(none), Contains("is a restricted field"));
  }
}
