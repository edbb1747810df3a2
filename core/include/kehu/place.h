// Place names: one canonical form for the ways people write a province or a
// city, so that they compare equal. Shared by the server's territories and the
// client's --region filter, so both read a place the same way.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kehu {

// A region, province or city name in one canonical form, so that the ways people
// write the same place compare equal: 江苏, 江苏省 and Jiangsu are 江苏;
// 广西壮族自治区 is 广西; 香港特别行政区 is 香港; 南京市 and 南京 are 南京; pinyin is
// lowercased without spaces. canonical_region takes "省" or "省/市" (user regions,
// region_covers).
std::string canonical_province(std::string_view name);
// The province of `name` and the city it also names, if any ("江苏省南京市" ->
// {"江苏", "南京"}, "江苏" -> {"江苏", ""}).
std::pair<std::string, std::string> split_province(std::string_view name);
std::string canonical_city(std::string_view name);
std::string canonical_region(std::string_view region);
// Whether the province of `name` is one of the 34 provincial-level divisions,
// read by the rules above: 江苏, 江苏省, Jiangsu, 江苏/南京 (a region "省/市") and
// 江苏省南京市 are; 火星, 江酥 and a city alone (南京) are not. The city is not checked.
bool known_province(std::string_view name);
// Refuses, with Error(validation), a change of a customer's province from
// `old_value` to `new_value` (JSON values) to one that is not one of the 34 as
// scope reads the cell (a '/' in it refused): no region covers such a
// customer, so its owner alone would see it, out of the manager's reach
// (attacker review 6, A6-11; 8, A8-2). Clearing one is refused too (7, A7-3).
// The device checks a salesperson's or manager's edit at once, the server again
// at push.
void check_province_change(const nlohmann::json& old_value, const nlohmann::json& new_value);
// The same for a new customer's province (`value`, null when the change sets
// none): it must be one of the 34. A salesperson's or manager's customer made
// without one was seen by its owner alone (walkthrough 8, R8-3).
void check_new_customer_province(const nlohmann::json& value);
// Whether `s` is one or more CJK ideographs and nothing else (UTF-8): how
// regions and customers' cities are written.
bool all_ideographs(std::string_view s);
// Refuses, with Error(validation), a customer's city that is not written in
// Chinese characters once canonical (Kunshan; Nanjing is read as 南京): no
// city region covers it (attacker review 8, A8-7). Checked for a salesperson's
// or manager's edit, as the province is.
void check_city_change(const nlohmann::json& old_value, const nlohmann::json& new_value);
// Refuses, with Error(validation), a customer's well-known city under another
// province (南京 under 浙江): it would leave the regions of its city and enter
// those of the province (attacker review 15, A15-6). Checked, for a
// salesperson's or manager's new customer or move, on the pair as it will be:
// by the device, at push and at approval. Other cities pass.
void check_city_in_province(const nlohmann::json& province, const nlohmann::json& city);
// The province of a well-known city (南京 or 南京市 -> 江苏; the capitals and the
// largest cities of every province), "" for any other: a hint when a city is
// typed where a province belongs, or under another province.
std::string province_of_city(std::string_view city);
// Every name known_province() knows a province by, without suffixes: the
// Chinese name, pinyin and English of each (江苏, jiangsu, ...), for suggestions.
std::vector<std::string> province_spellings();
// Whether one of `regions` ("江苏" or "江苏/南京", as set-regions stores them)
// covers a customer whose province and city cells are these: the rule of scope
// (server-stub/access/access_policy.h), also the device's check of an edit.
bool regions_cover(const std::vector<std::string>& regions, std::string_view province, std::string_view city);
// Refuses, with Error(validation), a salesperson's or manager's edit that takes
// a customer out of their regions (walkthrough 8, R8-11; attacker review 10,
// A10-8): a new customer (`before` null) in no region of theirs, or one moved
// to a place none of them covers (one outside them already may stay where it
// is or move into them; A17-2). Their manager and team would no longer see
// it: its owner alone, or another region's team, would. Fields are the
// customer's (province, city) before and after; `label` names it. A user with
// no regions has none to keep. The device checks at once, the server at push.
void check_stays_in_regions(const std::vector<std::string>& regions, const nlohmann::json* before,
                            const nlohmann::json& after, const std::string& label);
// The replica's meta key holding the user's regions as a JSON array, from the
// last login or pull ("" before the server sent any).
inline constexpr const char* kRegionsMeta = "regions";
// A customer's province and city cells, canonical: the city from the province
// cell when it names one ("江苏省南京市"), else from the city cell.
std::pair<std::string, std::string> canonical_place(std::string_view province, std::string_view city);
// The fields a later edit takes out of an earlier change request of its user
// (server: supersede_requests; device: Replica::narrow_awaiting): those it names,
// with province and city together, since a place moves as a whole (a request
// cut to its province or city wrote a place neither side asked for, attacker
// review 12, A12-1).
template <class Keys>
std::vector<std::string> superseded_fields(const Keys& named) {
  std::vector<std::string> out(named.begin(), named.end());
  const bool place = std::find(out.begin(), out.end(), "province") != out.end() ||
                     std::find(out.begin(), out.end(), "city") != out.end();
  if (place) {
    for (const char* key : {"province", "city"}) {
      if (std::find(out.begin(), out.end(), key) == out.end()) out.emplace_back(key);
    }
  }
  return out;
}

}  // namespace kehu
