#include "customer_filter.h"

#include <algorithm>
#include <tuple>

#include "kehu/calendar.h"
#include "kehu/error.h"
#include "kehu/place.h"
#include "kehu/text.h"
#include "search_grams.h"

namespace kehu {
namespace {

const std::string& text_of(const json& fields, const char* key) {
  static const std::string kEmpty;
  auto it = fields.find(key);
  return it != fields.end() && it->is_string() ? it->get_ref<const std::string&>() : kEmpty;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// --stale beyond 100 years is a typo, not a question.
constexpr std::int64_t kMaxDays = 36500;

std::string choices(const FieldDef& f) {
  std::string out;
  for (const EnumValue& v : f.values) out += (out.empty() ? "" : ", ") + v.key + " (" + v.zh + ")";
  return out;
}

}  // namespace

CustomerFilter::CustomerFilter(const ListQuery& q, const CollectionDef& coll) {
  where_ = parse_where(coll, q.where);
  for (const auto& f : where_) {
    if (!CustomerIndex::is_facet(f.field->key)) continue;
    // The index holds places canonically (--region's rule); --where compares
    // the value as stored, so it checks each record.
    if (f.field->key == "province" || f.field->key == "city") continue;
    if (f.value.is_array()) {
      for (const auto& t : f.value) {
        terms_.push_back(CustomerIndex::facet_term(f.field->key, t.get<std::string>()));
      }
    } else if (f.value.is_string()) {
      terms_.push_back(CustomerIndex::facet_term(f.field->key, f.value.get<std::string>()));
    }
  }

  for (const auto& raw : q.tags) {
    json t;
    try {
      t = normalize_value(coll.field("tags"), raw);
    } catch (const Error& e) {
      if (e.code() != Errc::validation) throw;
      throw Error(Errc::validation, "--tag " + quoted(raw) + tr(": ", "：") + e.what());
    }
    if (t.is_null()) throw Error(Errc::usage, tr("--tag needs a tag, e.g. --tag 重点客户", "--tag 后面要有标签，如 --tag 重点客户"));
    if (t.size() != 1) {
      throw Error(Errc::usage,
                  tr("--tag " + quoted(raw) + " names several tags: give --tag once per tag (all must be on the customer)",
                     "--tag " + quoted(raw) + " 含有多个标签：每个标签写一次 --tag（客户须带有全部标签）"));
    }
    tags_.push_back(t[0].get<std::string>());
    terms_.push_back(CustomerIndex::facet_term("tags", tags_.back()));
  }

  if (q.region) {
    const std::string region = trim(*q.region);
    const auto slash = region.find('/');
    province_ = trim(region.substr(0, slash));
    city_ = slash == std::string::npos ? std::string() : trim(region.substr(slash + 1));
    if (province_.empty() || (slash != std::string::npos && city_.empty()) ||
        city_.find('/') != std::string::npos) {
      throw Error(Errc::usage,
                  tr("--region " + quoted(*q.region) +
                         " is not a region: expected PROVINCE or PROVINCE/CITY, e.g. 江苏 or 江苏/南京",
                     "--region " + quoted(*q.region) + " 不是地区：应为 省 或 省/市，如 江苏 或 江苏/南京"));
    }
    // Read as the index reads a customer's place (kehu/place.h): 江苏省/南京市 is
    // 江苏/南京, and 江苏省南京市 names both.
    if (slash == std::string::npos) {
      std::tie(province_, city_) = split_province(province_);
    } else {
      province_ = canonical_province(province_);
      city_ = canonical_city(city_);
    }
    terms_.push_back(CustomerIndex::facet_term("province", province_));
    if (!city_.empty()) terms_.push_back(CustomerIndex::facet_term("city", city_));
  }

  if (q.pool && q.owner) {
    throw Error(Errc::usage, tr("--pool lists customers with no owner: it cannot be used with --owner",
                                "--pool 列出没有负责人的公海客户：不能与 --owner 同时使用"));
  }
  pool_ = q.pool;
  if (q.owner) {
    owner_ = trim(*q.owner);
    if (owner_.empty()) {
      throw Error(Errc::usage, tr("--owner needs a name, e.g. --owner 王五 (--pool lists the public pool)",
                                  "--owner 后面要有姓名，如 --owner 王五（公海客户用 --pool 列出）"));
    }
    terms_.push_back(CustomerIndex::facet_term("owner", owner_));
  }

  if (q.stage) {
    const FieldDef& f = coll.field("stage");
    const EnumValue* v = f.find_value(trim(*q.stage));
    if (!v) {
      throw Error(Errc::usage, tr("--stage " + quoted(*q.stage) + " is not a sales stage (" + f.zh +
                                      "): expected one of " + choices(f),
                                  "--stage " + quoted(*q.stage) + " 不是" + f.zh + "：应为 " + choices(f) + " 之一"));
    }
    stage_ = v->key;
    terms_.push_back(CustomerIndex::facet_term("stage", stage_));
  }

  if (q.stale_days) {
    if (*q.stale_days < 0 || *q.stale_days > kMaxDays) {
      const std::string n = std::to_string(*q.stale_days), max = std::to_string(kMaxDays);
      throw Error(Errc::usage, tr("--stale " + n + ": expected a number of days from 0 to " + max,
                                  "--stale " + n + "：应为 0 到 " + max + " 之间的天数"));
    }
    const std::string today = q.today.empty() ? today_local() : checked_today(q.today, "today");
    // "Not followed up in N days": the last follow-up was N or more days ago.
    stale_before_ = add_days(today, 1 - *q.stale_days);
  }

  if (!q.search.empty()) {
    search_ = fold_search_text(q.search);
    // One character has no pair: it is checked on each record (a scan unless
    // another filter narrows the list).
    for (auto& t : pair_tokens(search_)) terms_.push_back(std::move(t));
  }
}

std::optional<std::vector<std::int64_t>> CustomerFilter::candidates(CustomerIndex& index) const {
  if (terms_.empty()) return std::nullopt;
  std::vector<std::int64_t> out = index.with_terms(terms_);
  // Alone, --stale keeps most customers: a scan reads them faster than lookups.
  if (stale_before_ && !out.empty()) {
    out = intersect_sorted(out, index.followed_up_before(*stale_before_));
  }
  return out;
}

bool CustomerFilter::matches(const Record& r) const {
  if (!where_matches(r, where_)) return false;
  const json& f = r.fields;
  if (!province_.empty()) {
    const auto [province, city] = canonical_place(text_of(f, "province"), text_of(f, "city"));
    if (province != province_ || (!city_.empty() && city != city_)) return false;
  }
  if (!owner_.empty() && text_of(f, "owner") != owner_) return false;
  if (pool_ && !text_of(f, "owner").empty()) return false;
  if (!stage_.empty() && text_of(f, "stage") != stage_) return false;
  if (!tags_.empty()) {
    auto it = f.find("tags");
    if (it == f.end() || !it->is_array()) return false;
    for (const auto& t : tags_) {
      if (std::find(it->begin(), it->end(), t) == it->end()) return false;
    }
  }
  if (stale_before_) {
    const std::string& last = text_of(f, "last_followup_at");
    if (!last.empty() && last >= *stale_before_) return false;
  }
  if (!search_.empty()) {
    if (fold_search_text(r.code).find(search_) != std::string::npos) return true;
    for (const char* key : {"name", "contact", "phone", "need", "notes"}) {
      if (fold_search_text(text_of(f, key)).find(search_) != std::string::npos) return true;
    }
    return false;
  }
  return true;
}

}  // namespace kehu
