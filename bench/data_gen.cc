#include "data_gen.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "kehu/error.h"
#include "kehu/schema.h"
#include "kehu/text.h"

namespace kehu::bench {
namespace {

using Pool = std::vector<std::string>;

// Vocabulary of the sample sheets (客户信息记录标准模板 and friends).
const Pool kBrand = {"明达", "安和", "华信", "恒通", "鑫源", "宏远", "瑞丰", "东方",
                     "金桥", "天成", "博雅", "中科", "嘉禾", "润泽", "永盛", "汇丰",
                     "凯旋", "新航", "联创", "星辰", "海纳", "九州", "长青", "远景",
                     "卓越", "同济", "正大", "德润", "盛世", "百川"};
struct Trade {
  std::string industry;  // 所属行业
  std::string word;      // what the name says it does
};
const std::vector<Trade> kTrades = {
    {"医疗", "医疗器械"}, {"医疗", "生物医药"}, {"物流", "供应链管理"}, {"物流", "物流"},
    {"制造", "精密机械"}, {"制造", "电子设备"}, {"科技", "信息科技"},   {"科技", "网络科技"},
    {"教育", "教育咨询"}, {"零售", "商贸"},     {"金融", "投资管理"},   {"餐饮", "餐饮管理"},
    {"建筑", "建筑工程"}, {"能源", "新能源"},   {"化工", "化工材料"},   {"农业", "农业发展"}};
const Pool kSuffix = {"有限公司", "有限公司", "股份有限公司", "集团有限公司", "有限责任公司"};
const Pool kSurname = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                       "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"};
const Pool kGiven = {"伟", "敏", "静", "丽", "强", "磊",   "军",   "洋",   "勇",   "艳",
                     "杰", "娟", "涛", "明", "超", "秀英", "桂英", "建华", "志强", "晓东"};
const Pool kTitle = {"总经理",   "采购经理", "技术总监", "财务总监",
                     "行政主管", "董事长",   "项目经理", "办公室主任"};
const Pool kTypeKeys = {"potential", "intention", "deal", "lost"};
const Pool kStageKeys = {"potential", "contact", "needs", "proposal", "contract", "won"};
const Pool kSourceKeys = {"exhibition", "online_ad", "referral", "phone_sales",
                          "website",    "repeat",    "other"};
const Pool kStatusKeys = {"negotiating", "signed", "paused", "ended"};
const Pool kRatingKeys = {"A", "B", "C", "D"};
struct Province {
  std::string name;
  Pool cities;
};
const std::vector<Province> kProvinces = {{"江苏", {"南京", "苏州", "无锡", "常州"}},
                                          {"广东", {"广州", "深圳", "东莞", "佛山"}},
                                          {"浙江", {"杭州", "宁波", "温州"}},
                                          {"北京", {"北京"}},
                                          {"上海", {"上海"}},
                                          {"山东", {"济南", "青岛", "烟台"}},
                                          {"四川", {"成都", "绵阳"}},
                                          {"湖北", {"武汉", "宜昌"}},
                                          {"河南", {"郑州", "洛阳"}},
                                          {"福建", {"福州", "厦门"}},
                                          {"湖南", {"长沙", "株洲"}},
                                          {"陕西", {"西安"}},
                                          {"天津", {"天津"}},
                                          {"重庆", {"重庆"}},
                                          {"安徽", {"合肥", "芜湖"}},
                                          {"辽宁", {"沈阳", "大连"}}};

}  // namespace

std::string all_provinces() {
  std::string out;
  for (const auto& p : kProvinces) out += (out.empty() ? "" : ",") + p.name;
  return out;
}

namespace {
const Pool kDistrict = {"朝阳区", "南山区",   "高新区", "鼓楼区",
                        "江宁区", "浦东新区", "天河区", "西湖区"};
const Pool kRoad = {"人民路", "解放路",   "中山路", "建设路",
                    "长江路", "科技园路", "新华街", "和平大道"};
const Pool kNeed = {"门店装修设计", "员工培训服务", "CT 设备采购",      "ERP 系统升级",
                    "冷链物流方案", "办公家具采购", "年度审计服务",     "网络安全评估",
                    "企业礼品定制", "数据中心建设", "生产线自动化改造", "品牌营销推广"};
const Pool kOwner = {"王五", "李四", "张三", "赵六", "钱七", "孙八"};

}  // namespace

const std::vector<std::string>& owner_names() { return kOwner; }

namespace {
const Pool kPlan = {"安排技术演示", "发送报价单", "上门拜访",
                    "电话回访",     "寄送样品",   "确认合同条款"};
const Pool kTag = {"重点客户",   "高预算",   "需要演示", "老客户转介绍",
                   "决策周期长", "价格敏感", "政府项目", "长期合作"};
const Pool kNote = {"需经董事会审批",
                    "客户反馈礼盒设计需增加企业LOGO，预计下周确认方案",
                    "对价格较敏感，需准备分期方案",
                    "竞争对手已报价，需尽快跟进",
                    "年底有预算，重点跟进",
                    "联系人即将调岗，需建立新的对接关系"};
const Pool kMethodKeys = {"phone", "visit", "email", "wechat", "other"};
const Pool kFeedbackKeys = {"positive", "hesitant", "negative"};
const Pool kContent = {"客户对方案感兴趣，要求下周提供报价", "已演示样品，客户希望降低单价",
                       "初次电话沟通，了解基本需求",
                       "客户反馈礼盒设计需增加企业LOGO，预计下周确认方案",
                       "拜访采购部，确认年度采购计划"};

// Months since 2019-01, as the codes and dates use them.
constexpr int kMonths = 95;  // 2019-01 .. 2026-11

std::string month_text(int month_index) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04d%02d", 2019 + month_index / 12, 1 + month_index % 12);
  return buf;
}

std::string date_in(int year, int month, int day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

std::string random_date(Rng& rng, int first_year, int years) {
  return date_in(first_year + static_cast<int>(rng.below(static_cast<std::uint64_t>(years))),
                 1 + static_cast<int>(rng.below(12)), 1 + static_cast<int>(rng.below(28)));
}

std::string digits(Rng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng.below(10));
  return s;
}

std::string letters(Rng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('a' + rng.below(26));
  return s;
}

std::string tags_text(Rng& rng) {
  std::set<std::string> tags;
  const auto n = rng.below(4);
  for (std::uint64_t i = 0; i < n; ++i) tags.insert(rng.pick(kTag));
  std::string joined;
  for (const auto& t : tags) joined += (joined.empty() ? "" : ";") + t;
  return joined;
}

// Typed text -> stored values through the schema itself, so every value is
// exactly what the replica stores and check_stored_value accepts.
json normalise(const CollectionDef& coll, const std::map<std::string, std::string>& typed) {
  json values = json::object();
  for (const auto& [key, text] : typed) {
    json v = normalize_value(coll.field(key), text);
    if (!v.is_null()) values[key] = std::move(v);
  }
  return values;
}

std::vector<std::string> split_header(std::string line) {
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  std::vector<std::string> cells;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = line.find(',', start);
    cells.push_back(
        trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return cells;
}

}  // namespace

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string code_for_index(std::int64_t index) {
  const int month = static_cast<int>(index % kMonths);
  const std::int64_t serial = index / kMonths + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "C%s%03lld", month_text(month).c_str(),
                static_cast<long long>(serial));
  return buf;
}

GeneratedCustomer CustomerGenerator::next(std::int64_t index) {
  static const CollectionDef& customers = Schema::builtin().collection("customers");
  static const CollectionDef& followups = Schema::builtin().collection("followups");
  Rng& r = rng_;
  const int month = static_cast<int>(index % kMonths);
  const int year = 2019 + month / 12, mon = 1 + month % 12;
  const Trade& trade = r.pick(kTrades);
  const Province& prov = r.pick(kProvinces);
  const std::string city = r.pick(prov.cities);
  const std::string phone = "1" + std::to_string(3 + r.below(7)) + digits(r, 9);
  const std::string owner = r.pick(kOwner);
  std::map<std::string, std::string> typed = {
      {"code", code_for_index(index)},
      {"name",
       (r.chance(30) ? city : std::string()) + r.pick(kBrand) + trade.word + r.pick(kSuffix)},
      {"industry", trade.industry},
      {"type", r.pick(kTypeKeys)},
      {"stage", r.pick(kStageKeys)},
      {"contact", r.pick(kSurname) + r.pick(kGiven)},
      {"title", r.pick(kTitle)},
      {"phone", phone},
      {"email", letters(r, 6) + "@example.com"},
      {"wechat", "wx_" + phone.substr(5)},
      {"source", r.pick(kSourceKeys)},
      {"province", prov.name},
      {"city", city},
      {"address",
       city + "市" + r.pick(kDistrict) + r.pick(kRoad) + std::to_string(1 + r.below(999)) + "号"},
      {"need", r.pick(kNeed)},
      {"owner", owner},
      {"status", r.pick(kStatusKeys)},
      {"next_plan", r.pick(kPlan)},
      {"next_date", random_date(r, 2025, 2)},
      {"tags", tags_text(r)},
      {"birthday", random_date(r, 1960, 40)},
      {"notes", r.chance(60) ? r.pick(kNote) : std::string()},
      {"credit_rating", r.pick(kRatingKeys)},
      {"annual_spend", std::to_string(1000 + r.below(5'000'000)) + "." + digits(r, 2)},
      {"credit_limit", std::to_string(10'000 * (1 + r.below(100)))},
      {"created_at", date_in(year, mon, 1 + static_cast<int>(r.below(28)))},
  };
  GeneratedCustomer c;
  c.values = normalise(customers, typed);
  // Within the months above: a follow-up dated after today is refused (R15-2).
  const int fu_month = std::min(month + 1 + static_cast<int>(r.below(3)), kMonths - 1);
  c.followup = normalise(followups, {{"date", date_in(2019 + fu_month / 12, 1 + fu_month % 12,
                                                      1 + static_cast<int>(r.below(28)))},
                                     {"person", owner},
                                     {"method", r.pick(kMethodKeys)},
                                     {"content", r.pick(kContent)},
                                     {"feedback", r.pick(kFeedbackKeys)}});
  return c;
}

json CustomerGenerator::edit_values(std::int64_t serial) {
  static const CollectionDef& customers = Schema::builtin().collection("customers");
  Rng& r = rng_;
  // next_plan carries the serial so every edit changes something (an edit that
  // changes nothing writes no change-log entry and would not be measured).
  std::map<std::string, std::string> typed = {
      {"next_plan", r.pick(kPlan) + "（第" + std::to_string(serial) + "次）"}};
  const auto extra = r.below(3);
  for (std::uint64_t i = 0; i < extra; ++i) {
    switch (r.below(6)) {
      case 0:
        typed["stage"] = r.pick(kStageKeys);
        break;
      case 1:
        typed["status"] = r.pick(kStatusKeys);
        break;
      case 2:
        typed["next_date"] = random_date(r, 2026, 2);
        break;
      case 3:
        typed["tags"] = tags_text(r);
        break;
      case 4:
        typed["notes"] = r.pick(kNote);
        break;
      default:
        typed["title"] = r.pick(kTitle);
        break;
    }
  }
  json values = normalise(customers, typed);
  // An empty tag text means "clear the tags": keep that as an explicit null.
  if (typed.count("tags") && !values.contains("tags")) values["tags"] = nullptr;
  return values;
}

std::vector<std::pair<std::string, std::string>> CustomerGenerator::typed_edit(
    std::int64_t serial) {
  Rng& r = rng_;
  static const Pool kStageLabels = {"潜在客户", "初步接触", "需求分析",
                                    "方案制定", "合同签订", "成交"};
  std::vector<std::pair<std::string, std::string>> in = {
      {"下次跟进计划", r.pick(kPlan) + "（第" + std::to_string(serial) + "次）"}};
  if (r.chance(50)) in.emplace_back("销售阶段", r.pick(kStageLabels));
  if (r.chance(30))
    in.emplace_back("联系电话", "+86 1" + std::to_string(3 + r.below(7)) + digits(r, 1) + "-" +
                                    digits(r, 4) + "-" + digits(r, 4));
  return in;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line)) throw Error(Errc::io, "cannot read " + path);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void write_sheet_csv(const std::string& path, const std::string& header_line, std::int64_t rows,
                     std::uint64_t seed) {
  const auto& schema = Schema::builtin();
  const CollectionDef& cust = schema.collection("customers");
  const CollectionDef& fu = schema.collection("followups");
  // The follow-up columns belong to the row's follow-up record (sheet.h).
  static const std::map<std::string, std::string> kFollowupColumns = {{"跟进日期", "date"},
                                                                      {"跟进人", "person"},
                                                                      {"跟进方式", "method"},
                                                                      {"跟进内容", "content"},
                                                                      {"客户反馈", "feedback"}};
  struct Column {
    const FieldDef* field = nullptr;
    bool followup = false;
    bool serial = false;         // 序号
    bool last_followup = false;  // 最后跟进日期: the row's follow-up date
  };
  std::vector<Column> cols;
  for (const auto& h : split_header(header_line)) {
    Column c;
    if (auto it = kFollowupColumns.find(h); it != kFollowupColumns.end()) {
      c.field = fu.find(it->second);
      c.followup = true;
    } else if (h == "序号") {
      c.serial = true;
    } else if (h == "最后跟进日期") {
      c.last_followup = true;
    } else {
      c.field = cust.find(h);  // nullptr: a column we leave empty
    }
    cols.push_back(c);
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(Errc::io, "cannot write " + path);
  out << header_line << "\r\n";  // Excel writes CRLF
  CustomerGenerator gen(seed);
  std::string line;
  for (std::int64_t i = 0; i < rows; ++i) {
    GeneratedCustomer g = gen.next(i);
    line.clear();
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const Column& c = cols[k];
      if (k) line += ',';
      std::string cell;
      if (c.serial) {
        cell = std::to_string(i + 1);
      } else if (c.last_followup) {
        cell = g.followup.value("date", "");
      } else if (c.field) {
        const json& src = c.followup ? g.followup : g.values;
        auto it = src.find(c.field->key);
        if (it != src.end()) cell = display_value(*c.field, *it, Lang::zh);
      }
      line += csv_escape(cell);
    }
    out << line << "\r\n";
  }
  if (!out.flush()) throw Error(Errc::io, "cannot write " + path);
}

}  // namespace kehu::bench
