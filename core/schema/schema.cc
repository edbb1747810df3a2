// The built-in collections and schema lookups.
//
// The field lists follow the seed sheets (客户信息记录标准模板 and friends). The order
// of fields within a collection is the export column order, so keep it stable.
#include "kehu/schema.h"

#include <utility>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/typo_hint.h"

namespace kehu {

namespace {

// ASCII-only case folding: English labels are ASCII, and folding bytes >= 0x80
// would corrupt UTF-8.
bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Flags for the compact field table below.
enum : unsigned { kRequired = 1, kRestricted = 2, kDerived = 4 };

FieldDef make_field(const char* key, const char* zh, const char* en, FieldType type,
                    unsigned flags = 0) {
  FieldDef f;
  f.key = key;
  f.zh = zh;
  f.en = en;
  f.type = type;
  f.required = (flags & kRequired) != 0;
  f.restricted = (flags & kRestricted) != 0;
  f.derived = (flags & kDerived) != 0;
  return f;
}

FieldDef text(const char* key, const char* zh, const char* en, unsigned flags = 0) {
  return make_field(key, zh, en, FieldType::text, flags);
}

FieldDef with_aliases(FieldDef f, std::vector<std::string> aliases) {
  f.aliases = std::move(aliases);
  return f;
}

FieldDef enumeration(const char* key, const char* zh, const char* en, std::vector<EnumValue> values,
                     unsigned flags = 0) {
  FieldDef f = make_field(key, zh, en, FieldType::enumeration, flags);
  f.values = std::move(values);
  return f;
}

// Every child collection points at its customer. The replica fills it from the
// record's parent, so users never type it.
FieldDef customer_ref() {
  FieldDef f = make_field("customer", "客户", "Customer", FieldType::reference, kDerived);
  f.ref = "customers";
  return f;
}

CollectionDef customers() {
  using T = FieldType;
  return {"customers",
          "客户",
          "Customers",
          "",
          {
              // Derived: the replica assigns C + yyyymm + serial (or a provisional code).
              text("code", "客户编号", "Code", kDerived),
              // The aliases are the headers of the common Chinese templates
              // (客户动态管理表格, 区域客户管理表格, …); README "Sheets as people save them".
              with_aliases(text("name", "客户名称", "Name", kRequired),
                           {"公司名称", "单位名称", "客户", "客户名", "企业名称", "公司"}),
              text("industry", "所属行业", "Industry"),
              enumeration("type", "客户类型", "Customer type",
                          {{"potential", "潜在客户", "Potential"},
                           {"intention", "意向客户", "Intention"},
                           {"deal", "成交客户", "Deal"},
                           {"lost", "流失客户", "Lost"}}),
              enumeration("stage", "销售阶段", "Sales stage",
                          {{"potential", "潜在客户", "Prospect"},
                           {"contact", "初步接触", "Initial contact"},
                           {"needs", "需求分析", "Needs analysis"},
                           {"proposal", "方案制定", "Proposal"},
                           {"contract", "合同签订", "Contract signing"},
                           {"won", "成交", "Won"}}),
              text("contact", "联系人", "Contact", kRequired),
              text("title", "联系人职位", "Contact title"),
              with_aliases(make_field("phone", "联系电话", "Phone", T::phone, kRequired),
                           {"手机", "手机号", "手机号码", "电话", "联系方式", "电话号码"}),
              make_field("email", "邮箱", "Email", T::email),
              text("wechat", "微信", "WeChat"),
              enumeration("source", "客户来源", "Source",
                          {{"exhibition", "展会推广", "Exhibition"},
                           {"online_ad", "线上广告", "Online ad"},
                           {"referral", "客户转介绍", "Referral"},
                           {"phone_sales", "电话营销", "Telemarketing"},
                           {"website", "官网咨询", "Website inquiry"},
                           {"repeat", "老客户复购", "Repeat purchase"},
                           {"other", "其他", "Other"}}),
              // The region a sheet names (华东, 江苏, …): kept as the province, which
              // --region filters on.
              with_aliases(text("province", "省份", "Province"), {"地区", "区域", "所属区域", "省", "所在省份", "所在地区", "所在省"}),
              with_aliases(text("city", "城市", "City"), {"所在城市", "所在市", "城市名称"}),
              text("address", "地址", "Address"),
              with_aliases(text("need", "核心需求", "Core need", kRequired), {"客户需求", "需求"}),
              with_aliases(text("owner", "负责人", "Owner"), {"业务员", "销售", "销售员", "客户经理"}),
              enumeration("status", "合作状态", "Cooperation status",
                          {{"negotiating", "洽谈中", "Negotiating"},
                           {"signed", "已签约", "Signed"},
                           {"paused", "暂停合作", "Paused"},
                           {"ended", "已终止", "Ended"}}),
              text("next_plan", "下次跟进计划", "Next follow-up plan"),
              make_field("next_date", "下次跟进日期", "Next follow-up date", T::date),
              make_field("tags", "标签", "Tags", T::tags),
              make_field("birthday", "生日", "Birthday", T::date),
              text("notes", "备注", "Notes"),
              enumeration("credit_rating", "信用等级", "Credit rating",
                          {{"A", "A级", "Grade A"},
                           {"B", "B级", "Grade B"},
                           {"C", "C级", "Grade C"},
                           {"D", "D级", "Grade D"}},
                          kRestricted),
              make_field("annual_spend", "年消费额", "Annual spend", T::money, kRestricted),
              make_field("credit_limit", "信用额度", "Credit limit", T::money, kRestricted),
              make_field("created_at", "创建日期", "Created", T::date, kDerived),
              make_field("last_followup_at", "最后跟进日期", "Last follow-up", T::date, kDerived),
          }};
}

CollectionDef followups() {
  using T = FieldType;
  return {"followups",
          "跟进记录",
          "Follow-ups",
          "customer",
          {
              customer_ref(),
              make_field("date", "跟进日期", "Date", T::date, kRequired),
              text("person", "跟进人", "Followed up by", kRequired),
              enumeration("method", "跟进方式", "Method",
                          {{"phone", "电话沟通", "Phone call"},
                           {"visit", "现场拜访", "On-site visit"},
                           {"email", "邮件发送", "Email"},
                           {"wechat", "微信沟通", "WeChat"},
                           {"other", "其他", "Other"}}),
              text("content", "跟进内容", "Content", kRequired),
              enumeration("feedback", "客户反馈", "Customer feedback",
                          {{"positive", "积极", "Positive"},
                           {"hesitant", "犹豫", "Hesitant"},
                           {"negative", "消极", "Negative"}}),
              text("next_plan", "下次跟进计划", "Next follow-up plan"),
              make_field("next_date", "下次跟进日期", "Next follow-up date", T::date),
          }};
}

CollectionDef orders() {
  using T = FieldType;
  return {"orders",
          "订单",
          "Orders",
          "customer",
          {
              customer_ref(),
              text("order_no", "订单编号", "Order number"),
              make_field("date", "下单日期", "Order date", T::date),
              text("product", "产品", "Product", kRequired),
              make_field("quantity", "数量", "Quantity", T::integer),
              make_field("amount", "金额", "Amount", T::money),
              enumeration("status", "订单状态", "Order status",
                          {{"placed", "已下单", "Placed"},
                           {"producing", "生产中", "In production"},
                           {"shipped", "已发货", "Shipped"},
                           {"delivered", "已交付", "Delivered"},
                           {"cancelled", "已取消", "Cancelled"}}),
          }};
}

CollectionDef contacts() {
  using T = FieldType;
  return {"contacts",
          "联系人",
          "Contacts",
          "customer",
          {
              customer_ref(),
              text("name", "姓名", "Name", kRequired),
              text("title", "职位", "Title"),
              make_field("phone", "电话", "Phone", T::phone),
              make_field("email", "邮箱", "Email", T::email),
              text("wechat", "微信", "WeChat"),
              enumeration("is_primary", "主要联系人", "Primary contact",
                          {{"yes", "是", "Yes"}, {"no", "否", "No"}}),
              text("notes", "备注", "Notes"),
          }};
}

CollectionDef services() {
  using T = FieldType;
  return {"services",
          "服务记录",
          "Service records",
          "customer",
          {
              customer_ref(),
              make_field("date", "日期", "Date", T::date, kRequired),
              enumeration("kind", "类型", "Kind",
                          {{"consultation", "咨询", "Consultation"},
                           {"complaint", "投诉", "Complaint"},
                           {"feedback", "反馈", "Feedback"}},
                          kRequired),
              text("content", "内容", "Content", kRequired),
              text("handler", "处理人", "Handler"),
              enumeration("status", "处理状态", "Status",
                          {{"open", "待处理", "Open"},
                           {"in_progress", "处理中", "In progress"},
                           {"resolved", "已解决", "Resolved"}}),
              text("resolution", "处理结果", "Resolution"),
          }};
}

CollectionDef activities() {
  using T = FieldType;
  return {"activities",
          "市场活动",
          "Marketing activities",
          "customer",
          {
              customer_ref(),
              text("name", "活动名称", "Activity", kRequired),
              make_field("date", "活动日期", "Date", T::date, kRequired),
              enumeration("kind", "活动类型", "Kind",
                          {{"exhibition", "展会", "Exhibition"},
                           {"seminar", "研讨会", "Seminar"},
                           {"webinar", "线上会议", "Webinar"},
                           {"visit", "参观", "Site visit"},
                           {"other", "其他", "Other"}}),
              text("result", "参与结果", "Result"),
              make_field("cost", "费用", "Cost", T::money),
          }};
}

CollectionDef targets() {
  using T = FieldType;
  return {"targets",
          "销售目标",
          "Sales targets",
          "",
          {
              text("owner", "负责人", "Owner", kRequired),
              // Text with a format rule (YYYY, YYYY-MM or YYYY-Qn), see validate.cc.
              text("period", "周期", "Period", kRequired),
              make_field("amount", "目标金额", "Target amount", T::money, kRequired),
              make_field("customers_target", "目标客户数", "Target customers", T::integer),
              text("notes", "备注", "Notes"),
          }};
}

}  // namespace

const char* field_type_name(FieldType t) noexcept {
  switch (t) {
    case FieldType::text:
      return "text";
    case FieldType::integer:
      return "integer";
    case FieldType::money:
      return "money";
    case FieldType::date:
      return "date";
    case FieldType::datetime:
      return "datetime";
    case FieldType::enumeration:
      return "enum";
    case FieldType::tags:
      return "tags";
    case FieldType::phone:
      return "phone";
    case FieldType::email:
      return "email";
    case FieldType::reference:
      return "reference";
  }
  return "text";
}

const FieldDef* CollectionDef::find(std::string_view key_or_label) const {
  // Keys win over labels, and Chinese labels over English ones, so a label can
  // never shadow another field's key.
  for (const FieldDef& f : fields)
    if (f.key == key_or_label) return &f;
  for (const FieldDef& f : fields)
    if (f.zh == key_or_label) return &f;
  for (const FieldDef& f : fields)
    if (iequals_ascii(f.en, key_or_label)) return &f;
  return nullptr;
}

const FieldDef* CollectionDef::find_header(std::string_view header) const {
  if (const FieldDef* f = find(header)) return f;
  for (const FieldDef& f : fields)
    for (const auto& a : f.aliases)
      if (a == header) return &f;
  return nullptr;
}

const FieldDef& CollectionDef::field(std::string_view key_or_label) const {
  // The column names sheets use (手机, 地区) name their fields on the command
  // line too (walkthrough 16, R16-7: 地区 was "did you mean 地址").
  if (const FieldDef* f = find_header(key_or_label)) return *f;
  const std::string typed(key_or_label);
  // The nearest key or label, for a typo (walkthrough 13, R13-1).
  std::vector<std::string> names;
  for (const FieldDef& f : fields) {
    names.push_back(f.key);
    names.push_back(f.zh);
    names.insert(names.end(), f.aliases.begin(), f.aliases.end());
  }
  const std::string hint = did_you_mean(nearest_name(typed, names));
  throw Error(Errc::validation, tr(name + " has no field \"" + typed + "\"" + hint,
                                   zh + " (" + name + ") 没有“" + typed + "”这个字段" + hint));
}

const Schema& Schema::builtin() {
  // Function-local static: initialised once, thread-safe, never destroyed early.
  static const Schema schema(
      {customers(), followups(), orders(), contacts(), services(), activities(), targets()});
  return schema;
}

const CollectionDef* Schema::find(std::string_view name) const {
  for (const CollectionDef& c : collections_)
    if (c.name == name) return &c;
  return nullptr;
}

const CollectionDef& Schema::collection(std::string_view name) const {
  if (const CollectionDef* c = find(name)) return *c;
  std::string known;
  for (const CollectionDef& c : collections_) known += (known.empty() ? "" : ", ") + c.name;
  throw Error(Errc::usage, tr("unknown collection \"" + std::string(name) + "\": expected one of " + known,
                              "没有“" + std::string(name) + "”这个表：应为 " + known + " 之一"));
}

}  // namespace kehu
