// kehu schema add-field / list: the team's custom fields (kehu/custom_fields.h).
#include <algorithm>
#include <iostream>
#include <map>
#include <vector>

#include "commands.h"
#include "kehu/custom_fields.h"
#include "kehu/error.h"
#include "kehu/sync/sync_session.h"
#include "kehu/text.h"
#include "output.h"

namespace kehu::cli {
namespace {

// "金卡, 银卡" or "gold=金卡, silver=银卡" (key=label where the key differs).
std::string values_text(const FieldDef& f) {
  std::string out;
  for (const auto& v : f.values) {
    out += (out.empty() ? "" : ", ") + (v.key == v.zh ? v.zh : v.key + "=" + v.zh);
  }
  return out;
}

json field_json(const FieldDef& f) {
  json values = json::array();
  for (const auto& v : f.values) values.push_back({{"key", v.key}, {"label", v.zh}, {"label_en", v.en}});
  json j = {{"key", f.key},           {"label", f.zh},     {"label_en", f.en},
            {"type", field_type_name(f.type)}, {"required", f.required}, {"restricted", f.restricted},
            {"derived", f.derived},   {"custom", f.custom}};
  if (f.type == FieldType::enumeration) j["values"] = values;
  return j;
}

}  // namespace

int cmd_schema_add_field(Context& ctx, const AddFieldArgs& args, const NetArgs& net) {
  auto& rep = ctx.replica();
  // The definition is checked here first, against what this device knows, so a
  // typo needs no network; the server checks it again against the team's list.
  json definition = {{"collection", args.collection}, {"key", args.key},
                     {"type", args.type},             {"label", args.label},
                     {"label_en", args.label_en},     {"values", args.values},
                     {"required", args.required},     {"restricted", args.restricted}};
  json checked = check_custom_field(rep.schema(), definition);
  require_admin(rep, "add fields", "添加字段", "kehu-server schema add-field");
  const auto opts = net_options(ctx, net);
  json answer = sync::request(rep, opts, "/v1/schema/fields", checked,
                              tr("adding field ", "添加字段 ") + checked.value("collection", "") + "." +
                                  checked.value("key", ""));
  // This device knows the field at once; the others at their next `kehu sync`.
  json list = sync::request(rep, opts, "/v1/schema", json::object(), tr("reading the schema", "读取字段定义"));
  rep.set_meta(kCustomFieldsMeta, json{{"version", list.value("version", std::int64_t{0})},
                                       {"fields", list.value("fields", json::array())}}
                                      .dump());
  const json field = answer.value("field", checked);
  if (ctx.json) {
    print_json(answer, std::cout);
    return 0;
  }
  const std::string where = field.value("collection", "") + "." + field.value("key", "");
  if (ctx.lang == Lang::zh) {
    std::cout << "已添加字段 " << field.value("label", "") << "（" << where << "，" << show_word(ctx, field.value("type", ""))
              << "），字段定义版本 " << answer.value("version", std::int64_t{0}) << "；其他设备同步后可用\n";
  } else {
    std::cout << "added field " << field.value("label", "") << " (" << where << ", " << field.value("type", "")
              << "), schema version " << answer.value("version", std::int64_t{0})
              << "; other devices get it at their next sync\n";
  }
  return 0;
}

int cmd_schema_list(Context& ctx, const std::string& collection) {
  const Schema& schema = ctx.replica().schema();
  std::vector<const CollectionDef*> colls;
  if (collection.empty()) {
    for (const auto& c : schema.collections()) colls.push_back(&c);
  } else {
    colls.push_back(&schema.collection(collection));
  }
  const std::string stored = ctx.replica().meta(kCustomFieldsMeta);
  const std::int64_t version =
      custom_fields_version(stored.empty() ? json() : json::parse(stored, nullptr, false));
  // Walkthrough 12, R12-10: which fields a salesperson's edit waits for a manager for.
  // Read once, not once a field.
  std::map<std::string, std::vector<std::string>> guarded;
  for (const auto* c : colls) guarded[c->name] = protected_fields(ctx, c->name);
  const auto is_protected = [&](const CollectionDef& c, const FieldDef& f) {
    const auto& keys = guarded[c.name];
    return std::find(keys.begin(), keys.end(), f.key) != keys.end();
  };
  if (ctx.json) {
    json arr = json::array();
    for (const auto* c : colls) {
      json fields = json::array();
      for (const auto& f : c->fields) {
        fields.push_back(field_json(f));
        fields.back()["protected"] = is_protected(*c, f);
      }
      arr.push_back({{"name", c->name}, {"label", c->zh}, {"label_en", c->en}, {"fields", fields}});
    }
    print_json({{"version", version}, {"collections", arr}}, std::cout);
    return 0;
  }
  const bool zh = ctx.lang == Lang::zh;
  std::vector<std::vector<std::string>> rows;
  for (const auto* c : colls) {
    for (const auto& f : c->fields) {
      std::string rules;
      auto add = [&](bool on, const char* z, const char* e) {
        if (on) rules += (rules.empty() ? "" : ", ") + std::string(zh ? z : e);
      };
      add(f.required, "必填", "required");
      add(f.restricted, "受限", "restricted");
      add(f.derived, "自动", "derived");
      add(is_protected(*c, f), "销售修改需审批", "sales edits need approval");
      rows.push_back({zh ? c->zh : c->name, f.key, f.label(ctx.lang), show_word(ctx, field_type_name(f.type)), rules,
                      zh ? (f.custom ? "自定义" : "内置") : (f.custom ? "custom" : "built-in"), values_text(f)});
    }
  }
  std::cout << table(ctx, zh ? std::vector<std::string>{"集合", "键", "标签", "类型", "规则", "来源", "取值"}
                               : std::vector<std::string>{"Collection", "Key", "Label", "Type", "Rules", "Source",
                                                          "Values"},
                            rows, 60);
  std::cout << (zh ? "自定义字段版本 " : "custom field version ") << version << '\n';
  return 0;
}

}  // namespace kehu::cli
