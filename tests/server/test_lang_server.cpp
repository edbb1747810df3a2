// The server answers each request's messages in the language its
// Accept-Language asks for; codes and JSON keys never change with it.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kehu/lang.h"
#include "server_fixture.h"

using Catch::Contains;
using kehu::test::hlc_now;
using kehu::test::make_change;
using kehu::test::new_customer_fields;
using kehu::test::ServerFixture;
using json = nlohmann::json;

namespace {

json post(ServerFixture& s, const std::string& path, const json& body, const std::string& lang,
          const std::string& token = {}, int* status = nullptr) {
  httplib::Client c = s.client();
  httplib::Headers h;
  if (!lang.empty()) h.emplace("Accept-Language", lang);
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  auto r = c.Post(path.c_str(), h, body.dump(), "application/json");
  REQUIRE(r);
  if (status) *status = r->status;
  return json::parse(r->body, nullptr, false);
}

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

TEST_CASE("lang: a wrong login and a refused push are explained in the language asked for", "[server][lang]") {
  ServerFixture s;
  int status = 0;
  const json bad = {{"user", "wang"}, {"password", "not it"}};
  json zh = post(s, "/v1/login", bad, "zh-CN,zh;q=0.9", {}, &status);
  CHECK(status == 401);
  CHECK(zh["error"]["code"] == "unauthorized");
  CHECK_THAT(zh["error"]["message"].get<std::string>(), Contains("用户名或密码不对"));
  json en = post(s, "/v1/login", bad, "", {}, &status);
  CHECK(status == 401);
  CHECK(en["error"]["code"] == "unauthorized");
  CHECK_THAT(en["error"]["message"].get<std::string>(), Contains("wrong user or password"));

  // A salesperson's new customer with a restricted field: refused, in Chinese.
  const std::string wang = s.login("wang", "dev-w");
  json fields = new_customer_fields("戊公司");
  fields["credit_rating"] = {{"old", nullptr}, {"new", "A"}};
  const json change = make_change("c-zh", "rec-zh", "create", 0, hlc_now(), "dev-w", 1, fields);
  json pushed = post(s, "/v1/push", {{"device", "dev-w"}, {"changes", json::array({change})}}, "zh-CN", wang, &status);
  REQUIRE(status == 200);
  INFO(pushed.dump());
  CHECK(pushed["results"][0]["status"] == "rejected");
  CHECK(pushed["results"][0]["error"]["code"] == "forbidden");
  CHECK_THAT(pushed["results"][0]["error"]["message"].get<std::string>(), Contains("受限字段") && Contains("销售"));
  // The same refusal in English for a request without the header: the
  // language is the request's, not left over from the thread's last request.
  const json again = make_change("c-en", "rec-en", "create", 0, hlc_now(), "dev-w", 2, fields);
  json pushed_en = post(s, "/v1/push", {{"device", "dev-w"}, {"changes", json::array({again})}}, "", wang, &status);
  REQUIRE(status == 200);
  CHECK(pushed_en["results"][0]["error"]["code"] == "forbidden");
  CHECK_THAT(pushed_en["results"][0]["error"]["message"].get<std::string>(), Contains("is a restricted field"));
}
