// customer / followup / order / history subcommands.
#include <algorithm>
#include <iostream>
#include <optional>
#include <set>

#include "commands.h"
#include "kehu/cause_text.h"
#include "kehu/error.h"
#include "kehu/place.h"
#include "kehu/typo_hint.h"
#include "output.h"

namespace kehu::cli {
FieldInputs parse_pairs(const std::string& option, const std::vector<std::string>& pairs) {
  FieldInputs out;
  for (const auto& s : pairs) {
    // ＝ is what a Chinese input method types in full-width mode (walkthrough 13, R13-12).
    static const std::string kWideEquals = "\xEF\xBC\x9D";
    auto eq = s.find('=');
    std::size_t width = 1;
    if (const auto wide = s.find(kWideEquals); wide != std::string::npos && wide < eq) {
      eq = wide;
      width = kWideEquals.size();
    }
    if (eq == std::string::npos || eq == 0) {
      throw Error(Errc::usage, tr(option + " \"" + s + "\": expected FIELD=VALUE", option + " “" + s + "”：应为 字段=值"));
    }
    out.emplace_back(s.substr(0, eq), s.substr(eq + width));
  }
  return out;
}

FieldInputs parse_sets(const std::vector<std::string>& sets) { return parse_pairs("--set", sets); }

namespace {

std::string nothing_to_change() {
  return tr("nothing to change: give fields with --set FIELD=VALUE", "没有要修改的内容：请用 --set 字段=值 给出字段");
}

std::string no_customer(const std::string& code) { return tr("no customer " + code, "没有客户 " + code); }

}  // namespace

namespace {

// The subcommand of a child collection ("followup").
std::string command_of(const std::string& collection) {
  if (collection == "followups") return "followup";
  if (collection == "services") return "service";
  if (collection == "activities") return "activity";
  return collection.substr(0, collection.size() - 1);  // orders -> order
}

// The shortest id text `find_child` accepts: the short ids that lists show are
// 8 characters; fewer would often match several records.
constexpr std::size_t kMinShortId = 6;

// The record of `collection` with this id, or the one whose id ends with it
// (the short id lists show: the random end of the id, since a UUIDv7 starts
// with its creation time and ids made close together share their start).
// Recycle-bin records are found too (restore). Error(not_found) for none,
// Error(usage) for a short id that more than one record ends with.
Record find_child(Replica& rep, const std::string& collection, std::string id) {
  // Copied from a list with its "pending changes" mark.
  if (!id.empty() && id.back() == '*') id.pop_back();
  const std::string noun = collection_noun(collection);
  if (auto r = rep.get(id)) {
    if (r->collection == collection) return *r;
    throw Error(Errc::not_found, tr(id + " is not a " + noun + " (it is in " + r->collection + ")",
                                    id + " 不是" + noun + "（它在 " + r->collection + " 里）"));
  }
  if (id.size() < kMinShortId) {
    throw Error(Errc::not_found, tr("no " + noun + " " + id + " (give the ID that `kehu " +
                                        command_of(collection) + " list CODE` shows)",
                                    "没有" + noun + " " + id + "（请给出 `kehu " + command_of(collection) +
                                        " list 客户编号` 显示的编号）"));
  }
  std::vector<Record> found;
  for (bool deleted : {false, true}) {
    ListQuery q;
    q.collection = collection;
    q.deleted = deleted;
    for (auto& r : rep.list(q)) {
      if (r.id.size() >= id.size() && r.id.compare(r.id.size() - id.size(), id.size(), id) == 0) {
        found.push_back(std::move(r));
      }
    }
  }
  if (found.empty()) throw Error(Errc::not_found, tr("no " + noun + " " + id, "没有" + noun + " " + id));
  if (found.size() > 1) {
    const std::string n = std::to_string(found.size()), ids = found[0].id + ", " + found[1].id;
    throw Error(Errc::usage, tr("\"" + id + "\" matches " + n + " " + collection + ": give more of the id (" + ids + ")",
                                "“" + id + "”对应 " + n + " 条" + noun + "：请多给出几位编号（" + ids + "）"));
  }
  return found.front();
}

// The record's customer code for messages ("" if it has none any more).
std::string parent_code(Replica& rep, const Record& r) {
  auto customer = r.parent.empty() ? std::nullopt : rep.get(r.parent);
  return customer ? customer->code : std::string();
}

// The customer a typed code names for a write: a customer merged into
// another is that one, as show and the server have it (walkthrough 22b, W22-4:
// an edit went to the merged-away one in the recycle bin until the next sync).
// Said on stderr: stdout is the written record.
std::string write_target(Context& ctx, const std::string& typed) {
  auto own = ctx.replica().find_customer(typed);
  if (!own || !own->deleted) return typed;
  auto into = ctx.replica().find_customer_forwarded(typed);
  if (!into || into->id == own->id) return typed;
  std::cerr << tr(own->code + " was merged into " + into->code + "; writing to " + into->code + "\n",
                  own->code + " 已合并到 " + into->code + "，写入 " + into->code + "\n");
  return into->code;
}

}  // namespace

int cmd_record_add(Context& ctx, const std::string& collection, const std::string& typed_customer,
                   const std::vector<std::string>& sets) {
  const std::string customer = typed_customer.empty() ? typed_customer : write_target(ctx, typed_customer);
  if (sets.empty()) throw Error(Errc::usage, tr("nothing to add: give fields with --set FIELD=VALUE", "没有要添加的内容：请用 --set 字段=值 给出字段"));
  FieldInputs in = parse_sets(sets);
  // What a salesperson logging a visit would otherwise type every time: a
  // follow-up is today's and theirs, an order placed and a service given today, unless given.
  if (collection == "followups" || collection == "orders" || collection == "services") {
    const CollectionDef& coll = ctx.schema().collection(collection);
    auto given = [&](const char* key) {
      return std::any_of(in.begin(), in.end(), [&](const auto& kv) {
        const FieldDef* f = coll.find(kv.first);
        return f && f->key == key;
      });
    };
    if (!given("date")) in.emplace_back("date", today_local());
    const std::string user = ctx.replica().meta("user");
    if (collection == "followups" && !given("person") && !user.empty()) in.emplace_back("person", user);
  }
  Record r = ctx.replica().add(collection, in, customer);
  if (ctx.json) {
    print_json(record_json(r), std::cout);
  } else if (collection == "customers") {
    std::cout << r.code << '\n';
  } else {
    std::cout << r.id << '\n';
  }
  return 0;
}

// The protected fields among `inputs` (keys or labels) of a salesperson's edit
// of a `collection` record, as labels; empty for other roles.
std::string protected_labels(Context& ctx, const std::string& collection, const std::string& record_id,
                             const FieldInputs& inputs) {
  if (ctx.replica().meta("role") != "sales") return {};
  const auto keys = protected_fields(ctx, collection);
  const CollectionDef& coll = ctx.schema().collection(collection);
  // A field a waiting request of theirs asks for: the edit changes that
  // request (typed back, it withdraws it), said by the sync (walkthrough 14, R14-1).
  std::set<std::string> waiting;
  for (const LoggedChange& c : ctx.replica().changes_in_state("awaiting")) {
    if (c.change.record_id != record_id) continue;
    for (const auto& [key, fc] : c.change.fields) waiting.insert(key);
  }
  std::string out;
  for (const auto& [name, value] : inputs) {
    const FieldDef* f = coll.find(name);
    if (f && !waiting.count(f->key) && std::find(keys.begin(), keys.end(), f->key) != keys.end()) {
      out += (out.empty() ? "" : ctx.lang == Lang::zh ? "、" : ", ") + f->label(ctx.lang);
    }
  }
  return out;
}

int cmd_customer_edit(Context& ctx, const std::string& code, const std::vector<std::string>& sets) {
  if (sets.empty()) throw Error(Errc::usage, nothing_to_change());
  const FieldInputs inputs = parse_sets(sets);
  Record r = ctx.replica().edit(write_target(ctx, code), inputs);
  if (ctx.json) {
    print_json(record_json(r), std::cout);
    return 0;
  }
  print_record(ctx, r, std::cout);
  // Said before the sync, not after (walkthrough 12, R12-10).
  if (const std::string labels = protected_labels(ctx, r.collection, r.id, inputs); !labels.empty()) {
    std::cout << (ctx.lang == Lang::zh
                      ? labels + " 是受保护字段：同步时作为修改申请发给经理，批准前服务器上仍是原来的值\n"
                      : labels + (labels.find(", ") == std::string::npos ? " is a protected field" : " are protected fields") +
                            ": the sync sends the change as a request to a manager, and the server keeps the old "
                            "value until it is approved\n");
  }
  return 0;
}

namespace {

// The customer merged away that `typed` names, when `r` is the one it was
// merged into: said before what is shown of `r`.
std::optional<Record> merged_away(Replica& rep, const std::string& typed, const Record& r) {
  auto own = rep.find_customer(typed);
  if (!own || own->id == r.id) return std::nullopt;
  return own;
}

void say_merged(const Context& ctx, const Record& gone, const Record& into) {
  std::cout << (ctx.lang == Lang::zh
                    ? gone.code + " 已合并到 " + into.code + "，以下是 " + into.code + "（要找回 " + gone.code +
                          "：kehu customer restore " + gone.code + "）\n"
                    : gone.code + " was merged into " + into.code + "; showing " + into.code + " (to bring " +
                          gone.code + " back: kehu customer restore " + gone.code + ")\n");
}

}  // namespace

int cmd_customer_show(Context& ctx, const std::string& code) {
  auto& rep = ctx.replica();
  auto r = rep.find_customer_forwarded(code);
  if (!r) throw Error(Errc::not_found, no_customer(code));
  const auto gone = merged_away(rep, code, *r);
  if (ctx.json) {
    json j = record_json(*r);
    if (gone) j["merged_from"] = gone->code;
    print_json(j, std::cout);
    return 0;
  }
  if (gone) say_merged(ctx, *gone, *r);
  print_record(ctx, *r, std::cout);
  const bool zh = ctx.lang == Lang::zh;
  // What waits for a manager: the table above shows the server's values until
  // then (walkthrough 12, R12-10).
  std::vector<std::vector<std::string>> waiting;
  for (const LoggedChange& c : rep.changes_in_state("awaiting")) {
    if (c.change.record_id != r->id) continue;
    // A merge's delete says whose it is (walkthrough 22b, W22-6).
    const std::string why = c.change.cause.empty() ? "" : " (" + cause_text(c.change.cause, ctx.lang) + ")";
    for (const auto& [key, fc] : c.change.fields) {
      waiting.push_back({label_of(ctx, r->collection, key),
                         show_value(ctx, r->collection, key, fc.old_value) + " → " +
                             show_value(ctx, r->collection, key, fc.new_value) + why,
                         "#" + std::to_string(c.request)});
    }
  }
  if (!waiting.empty()) {
    std::cout << '\n' << (zh ? "待经理审批（批准前上表仍是原来的值）" : "Awaiting a manager's approval (the values above stay until then)")
              << '\n'
              << table(ctx, {zh ? "字段" : "Field", zh ? "修改" : "Change", zh ? "申请" : "Request"}, waiting);
  }
  // Under the fields, the customer's child records, one table per collection
  // that has any: what a salesperson reads before a call.
  for (const CollectionDef& coll : rep.schema().collections()) {
    if (coll.parent_field.empty()) continue;
    ListQuery q;
    q.collection = coll.name;
    q.parent = r->id;
    const std::vector<Record> children = rep.list(q);
    if (children.empty()) continue;
    const std::string n = std::to_string(children.size());
    std::cout << '\n' << (zh ? coll.zh + "（" + n + "）" : coll.en + " (" + n + ")") << '\n';
    print_records(ctx, children, std::cout);
  }
  return 0;
}

int cmd_customer_list(Context& ctx, const ListArgs& args) {
  ListQuery q;
  q.where = parse_pairs("--where", args.where);
  q.search = args.search;
  q.sort = args.sort;
  q.pinyin = args.pinyin;
  q.limit = args.limit;
  q.offset = args.offset;
  q.deleted = args.deleted;
  q.tags = args.tags;
  q.region = args.region;
  if (q.region) {  // 江苏／南京, typed in full-width mode (walkthrough 13, R13-12)
    for (std::size_t at; (at = q.region->find("\xEF\xBC\x8F")) != std::string::npos;) q.region->replace(at, 3, "/");
  }
  q.owner = args.owner;
  q.pool = args.pool;
  q.stage = args.stage;
  q.stale_days = args.stale_days;
  if (q.stale_days) q.today = today_local();
  // One more than asked says whether the page is the whole list (walkthrough
  // 15, R15-6: "3 records" of 3112, without a word).
  if (q.limit) ++q.limit;
  auto records = ctx.replica().list(q);
  const bool more = args.limit && records.size() > args.limit;
  if (more) records.resize(args.limit);
  print_list(ctx, records, std::cout);
  // --search by a code merged away lists the survivor: said, as show says it
  // (walkthrough 22, W22-6).
  if (!args.search.empty() && !ctx.json) {
    const auto into = ctx.replica().find_customer_forwarded(args.search);
    const auto gone = into ? merged_away(ctx.replica(), args.search, *into) : std::nullopt;
    if (gone && std::any_of(records.begin(), records.end(), [&](const Record& r) { return r.id == into->id; })) {
      std::cerr << tr(gone->code + " was merged into " + into->code + ", listed as " + into->code + "\n",
                      gone->code + " 已合并到 " + into->code + "，列为 " + into->code + "\n");
    }
  }
  if (more && !ctx.json) {
    const std::string next = "--offset " + std::to_string(args.offset + args.limit);
    std::cerr << tr("more customers match: the next page is " + next + ", or narrow the list with --where, --search, "
                        "--region or --owner\n",
                    "还有更多符合条件的客户：下一页用 " + next + "，或用 --where、--search、--region、--owner 缩小范围\n");
  }
  // --region 南京: a city alone names no province, and finds nothing. Said, with
  // the form that would (customers may hold other words, such as 华东: those
  // still filter).
  // A typo of a province (江酥) is a usage error, with the nearest named, as
  // the server says it (walkthrough 17, R17-7: exit 0 and an empty list).
  if (records.empty() && q.region) {
    const std::string province = q.region->substr(0, q.region->find('/'));
    if (!known_province(province)) {
      // (A city alone, 南京, is near 北京 too: it gets the note below.)
      const std::string near = province_of_city(province).empty()
                                   ? did_you_mean(nearest_names(province, province_spellings()))
                                   : std::string();
      if (!near.empty()) {
        throw Error(Errc::usage, tr("--region \"" + *q.region + "\": \"" + province + "\" is not a province" + near,
                                    "--region “" + *q.region + "”：“" + province + "”不是省份" + near));
      }
      std::cerr << tr("note: \"" + province + "\" is not a province; --region is 省 or 省/市, e.g. 江苏/南京\n",
                      "提示：“" + province + "”不是省份；--region 应为 省 或 省/市，如 江苏/南京\n");
    }
  }
  return 0;
}

int cmd_customer_delete(Context& ctx, const std::string& code, bool restore) {
  auto& rep = ctx.replica();
  if (!rep.find_customer(code)) throw Error(Errc::not_found, no_customer(code));
  Record r = restore ? rep.restore(code) : rep.remove(code);
  if (ctx.json) {
    print_json(record_json(r), std::cout);
  } else {
    bool zh = ctx.lang == Lang::zh;
    std::cout << r.code
              << (restore ? (zh ? " 已恢复\n" : " restored\n")
                          : (zh ? " 已移入回收站" : " moved to the recycle bin") + sales_delete_note(ctx) + "\n");
  }
  return 0;
}

int cmd_child_list(Context& ctx, const std::string& collection, const std::string& code,
                   bool deleted) {
  auto& rep = ctx.replica();
  auto customer = rep.find_customer(code);
  if (!customer) throw Error(Errc::not_found, no_customer(code));
  ListQuery q;
  q.collection = collection;
  q.parent = customer->id;
  q.deleted = deleted;
  auto records = rep.list(q);
  print_list(ctx, records, std::cout);
  return 0;
}

int cmd_child_edit(Context& ctx, const std::string& collection, const std::string& id,
                   const std::vector<std::string>& sets) {
  if (sets.empty()) throw Error(Errc::usage, nothing_to_change());
  auto& rep = ctx.replica();
  const Record before = find_child(rep, collection, id);
  Record r = rep.edit(before.id, parse_sets(sets));
  if (ctx.json) {
    print_json(record_json(r), std::cout);
  } else {
    print_record(ctx, r, std::cout);
  }
  return 0;
}

int cmd_child_delete(Context& ctx, const std::string& collection, const std::string& id, bool restore) {
  auto& rep = ctx.replica();
  const Record before = find_child(rep, collection, id);
  // "follow-up 935240d7 of C202612048", as lists and conflicts name it, not its
  // full id (walkthrough 17, R17-16); the core names it so when it refuses.
  Record r = restore ? rep.restore(before.id) : rep.remove(before.id);
  if (ctx.json) {
    print_json(record_json(r), std::cout);
    return 0;
  }
  const std::string name = record_name(collection, before.id, parent_code(rep, before));
  std::cout << (restore ? name_with(name, "restored", "已恢复") : name_with(name, "moved to the recycle bin", "已移入回收站"))
            << '\n';
  return 0;
}

Record find_record_ref(Replica& rep, const std::string& typed) {
  std::optional<Record> found = rep.find_customer(typed);
  if (!found) found = rep.get(typed);
  if (found) return *found;
  // A child record's short id, as its list shows it: the collection that has it.
  for (const CollectionDef& coll : rep.schema().collections()) {
    if (coll.parent_field.empty()) continue;
    try {
      return find_child(rep, coll.name, typed);
    } catch (const Error& e) {
      if (e.code() != Errc::not_found) throw;
    }
  }
  return rep.require(typed);  // throws, naming what was asked
}

int cmd_history(Context& ctx, const std::string& code, const std::string& field) {
  auto& rep = ctx.replica();
  Record r = find_record_ref(rep, code);
  // A customer merged away: the history of the one it was merged into, which
  // holds its children and what was edited since (issue 22).
  // Its own history follows, down to the merge (walkthrough 22b, W22-1: it was
  // readable nowhere but in a manager's audit).
  if (auto into = r.collection == "customers" && r.deleted ? rep.find_customer_forwarded(code) : std::nullopt;
      into && into->id != r.id) {
    if (!ctx.json) say_merged(ctx, r, *into);
    print_history(ctx, *into, rep.history(into->id, field), std::cout);
    if (ctx.json) return 0;
    std::cout << '\n'
              << tr(r.code + "'s own history, until it was merged into " + into->code + ":",
                    r.code + " 自己的历史（直到合并到 " + into->code + "）：")
              << '\n';
  }
  print_history(ctx, r, rep.history(r.id, field), std::cout);
  return 0;
}

}  // namespace kehu::cli
