#include "user_admin.h"

#include <algorithm>
#include <functional>

#include "access_policy.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/place.h"
#include "kehu/record.h"
#include "kehu/text.h"
#include "kehu/typo_hint.h"
#include "password.h"

namespace kehu::server {

namespace {

constexpr std::size_t kMaxUserName = 64;

// Loads a user, lets `edit` change it, writes it back; one transaction.
void modify(Store& store, std::string_view name, bool revoke_tokens,
            const std::function<void(User&)>& edit) {
  auto txn = store.begin(TxnMode::write);
  auto user = txn->find_user(name);
  if (!user) throw Error(Errc::not_found, tr("no user \"" + std::string(name) + "\"", "没有用户“" + std::string(name) + "”"));
  edit(*user);
  txn->update_user(*user);
  if (revoke_tokens) txn->delete_user_tokens(name);
  txn->commit();
}

// Error(validation) unless the province of region `t` ("省" or "省/市") is one of
// the 34: a typo (江酥) or a city alone (南京) would give the user a territory
// with no customers in it, and their devices drop every customer at the next sync.
void check_known_province(const std::string& t) {
  if (known_province(t)) return;
  const auto slash = t.find('/');
  const std::string typed = trim(t.substr(0, slash));
  // A city where the province belongs (南京): its province, not a name spelled
  // alike (南京 was "did you mean 北京?", walkthrough 6, R6-1).
  if (const std::string p = province_of_city(typed); !p.empty() && slash == std::string::npos) {
    const std::string region = p + "/" + canonical_city(typed);
    throw Error(Errc::validation, tr("region \"" + t + "\" is a city, not a province: a region is 省 or 省/市; did you mean " +
                                         region + "?",
                                     "区域“" + t + "”是城市，不是省份：区域应为“省”或“省/市”；您是不是要输入“" + region + "”？"));
  }
  const std::string city = slash == std::string::npos ? "" : t.substr(slash);
  std::vector<std::string> near;  // whole regions: 江苏/南京 for 江酥/南京
  for (const auto& spelling : nearest_names(canonical_province(typed), province_spellings())) {
    const std::string region = canonical_province(spelling) + city;
    if (std::find(near.begin(), near.end(), region) == near.end()) near.push_back(region);
  }
  // 湖东 is as near 山东, 湖北, 湖南 and 广东: a few are a hint, all of them noise.
  if (near.size() > 3) near.resize(3);
  const bool whole = slash == std::string::npos;  // the region is its province
  const std::string en = "region \"" + t + "\"" + (whole ? "" : ": \"" + typed + "\"");
  const std::string zh = "区域“" + t + "”" + (whole ? "" : "：“" + typed + "”");
  throw Error(Errc::validation,
              tr(en + " is not one of the 34 provinces; a region is 省 or 省/市 (for example 江苏 or 江苏/南京)",
                 zh + "不是已知的省份（34 个省级行政区之一）；区域应为“省”或“省/市”（例如 江苏 或 江苏/南京）") +
                  did_you_mean(near));
}

// Error(validation) unless the city of region `t` (after the '/') is written in
// Chinese characters, as customers' cities are, and is not a province: 江苏/Nanjing
// was kept as 江苏/nanjing and matched no customer, so the salesperson's devices
// dropped every one (walkthrough 7, R7-4); junk such as 江苏/·南京 the same
// (attacker review 6, A6-7).
void check_city(const std::string& t, const std::string& province, const std::string& city) {
  if (city.empty()) return;
  if (city.size() > 64) {  // no city's name is this long (attacker review 8, A8-5)
    throw Error(Errc::validation, tr("region \"" + t + "\": the city is longer than any city's name",
                                     "区域“" + t + "”：城市名太长，不是城市的名字"));
  }
  if (const std::string p = province_of_city(city); !p.empty() && p != province) {
    throw Error(Errc::validation,
                tr("region \"" + t + "\": " + city + " is in " + p + ", not in " + province + "; did you mean " + p + "/" +
                       city + "?",
                   "区域“" + t + "”：" + city + " 在" + p + "，不在" + province + "；您是不是要输入“" + p + "/" + city + "”？"));
  }
  // 上海/上海: a municipality is its own city, and 吉林/吉林 a city of its
  // province's name (attacker review 9, A9-9).
  const bool own_name = city == province &&
                        (city == "北京" || city == "上海" || city == "天津" || city == "重庆" || city == "吉林");
  if (all_ideographs(city) && (!known_province(city) || own_name)) return;
  if (all_ideographs(city)) {
    // 江苏/苏 was told "must be written in Chinese characters" (walkthrough 9).
    const std::string named = canonical_province(city);
    throw Error(Errc::validation,
                tr("region \"" + t + "\": \"" + city + "\" is a province's name (" + named +
                       "), not a city's; write the city's full name, for example 江苏/苏州",
                   "区域“" + t + "”：“" + city + "”是省份的名字（" + named + "），不是城市；请写城市的全名，例如 江苏/苏州"));
  }
  throw Error(Errc::validation,
              tr("region \"" + t + "\": the city \"" + city +
                     "\" must be a city written in Chinese characters, as customers' cities are (for example 江苏/南京)",
                 "区域“" + t + "”：城市“" + city + "”应为用汉字写的城市名，与客户的城市一致（例如 江苏/南京）"));
}

}  // namespace

void check_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserName) {
    throw Error(Errc::validation, tr("user name must be 1 to 64 bytes long", "用户名长度必须为 1 到 64 字节"));
  }
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7f || c == ':' || c == '/') {
      throw Error(Errc::validation, tr("user name \"" + std::string(name) +
                                           "\" contains a space, control character, ':' or '/'",
                                       "用户名“" + std::string(name) + "”含有空格、控制字符、':' 或 '/'"));
    }
  }
}

void UserAdmin::add(std::string_view name, Role role, std::string_view password) {
  check_user_name(name);
  check_password_policy(password, name);
  User user{std::string(name), role, hash_password(password), false, now_iso8601(), {}, 0};
  auto txn = store_.begin(TxnMode::write);
  txn->add_user(user);
  txn->commit();
}

void UserAdmin::set_password(std::string_view name, std::string_view password) {
  check_password_policy(password, name);
  const std::string hash = hash_password(password);
  modify(store_, name, true, [&](User& u) { u.password_hash = hash; });
}

void UserAdmin::set_role(std::string_view name, Role role) {
  modify(store_, name, false, [&](User& u) {
    if (u.role != role) ++u.scope_version;  // devices re-pull their scope
    u.role = role;
  });
}

std::vector<std::string> UserAdmin::set_regions(std::string_view name, const std::vector<std::string>& regions) {
  // As a Chinese keyboard types them: 江苏／南京 (full-width slash), 江苏，浙江 and
  // 江苏、浙江 (two regions). Each spelling once: before, 江苏／南京 and 江苏，浙江
  // were read as the whole of 江苏 (attacker review 5, A5-1).
  std::vector<std::string> typed;
  for (const auto& r : regions) {
    std::string folded = fold_fullwidth(r);
    for (const char* other : {"、", "∕", "\\"}) {
      for (std::size_t at; (at = folded.find(other)) != std::string::npos;) {
        folded.replace(at, std::string_view(other).size(), std::string_view(other) == "、" ? "," : "/");
      }
    }
    for (std::size_t start = 0;;) {
      const std::size_t comma = folded.find(',', start);
      typed.push_back(folded.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::vector<std::string> clean;
  for (const auto& r : typed) {
    const std::string t = trim(r);
    if (t.empty()) continue;
    const auto slash = t.find('/');
    if (t.find_first_of("\n|;:*?<>\"'()[]{}") != std::string::npos || slash == 0 || slash + 1 == t.size() ||
        (slash != std::string::npos && t.find('/', slash + 1) != std::string::npos)) {
      throw Error(Errc::validation, tr("region \"" + t + "\" is not 省 or 省/市 (for example 江苏 or 浙江/杭州)",
                                       "区域“" + t + "”不是“省”或“省/市”格式（例如 江苏 或 浙江/杭州）"));
    }
    check_known_province(t);
    // One spelling per place: 江苏省, Jiangsu and 江苏 are all kept as 江苏, and
    // 江苏省南京市 as 江苏/南京 (not as 江苏, which would cover the whole province).
    const auto [province, city] = split_province(t);
    const std::string canonical = slash == std::string::npos && !city.empty() ? province + "/" + city
                                                                              : canonical_region(t);
    if (const auto cut = canonical.find('/'); cut != std::string::npos) {
      check_city(t, canonical.substr(0, cut), canonical.substr(cut + 1));
    }
    if (std::find(clean.begin(), clean.end(), canonical) == clean.end()) clean.push_back(canonical);
  }
  modify(store_, name, false, [&](User& u) {
    if (u.regions != clean) ++u.scope_version;  // devices re-pull their scope
    u.regions = clean;
  });
  return clean;
}

bool UserAdmin::set_disabled(std::string_view name, bool disabled) {
  // While disabled, the tokens are kept so that each device is told why (403
  // "disabled", docs/protocol.md). Enabling ends them all: a user is disabled when
  // a device is lost, and the lost device must not come back with the user. Each
  // device logs in again.
  auto txn = store_.begin(TxnMode::write);
  auto user = txn->find_user(name);
  if (!user) throw Error(Errc::not_found, tr("no user \"" + std::string(name) + "\"", "没有用户“" + std::string(name) + "”"));
  const bool enabling = user->disabled && !disabled;
  user->disabled = disabled;
  txn->update_user(*user);
  if (enabling) txn->delete_user_tokens(name);
  txn->commit();
  return enabling;
}

std::vector<User> UserAdmin::list() {
  auto txn = store_.begin(TxnMode::read);
  return txn->list_users();
}

}  // namespace kehu::server
