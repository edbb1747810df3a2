// customer / followup / order / history subcommands.
#include <iostream>

#include "commands.h"
#include "kehu/error.h"
#include "output.h"

namespace kehu::cli {
FieldInputs parse_sets(const std::vector<std::string>& sets) {
  FieldInputs out;
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(Errc::usage, "--set \"" + s + "\": expected FIELD=VALUE");
    }
    out.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return out;
}

namespace {

}  // namespace

int cmd_record_add(Context& ctx, const std::string& collection, const std::string& customer,
                   const std::vector<std::string>& sets) {
  if (sets.empty()) throw Error(Errc::usage, "nothing to add: give fields with --set FIELD=VALUE");
  Record r = ctx.replica().add(collection, parse_sets(sets), customer);
  if (ctx.json) {
    print_json(record_json(r), std::cout);
  } else if (collection == "customers") {
    std::cout << r.code << '\n';
  } else {
    std::cout << r.id << '\n';
  }
  return 0;
}

int cmd_customer_edit(Context& ctx, const std::string& code, const std::vector<std::string>& sets) {
  if (sets.empty()) throw Error(Errc::usage, "nothing to change: give fields with --set FIELD=VALUE");
  Record r = ctx.replica().edit(code, parse_sets(sets));
  if (ctx.json) {
    print_json(record_json(r), std::cout);
  } else {
    print_record(ctx, r, std::cout);
  }
  return 0;
}

int cmd_customer_show(Context& ctx, const std::string& code) {
  auto r = ctx.replica().find_customer(code);
  if (!r) throw Error(Errc::not_found, "no customer " + code);
  if (ctx.json) {
    print_json(record_json(*r), std::cout);
  } else {
    print_record(ctx, *r, std::cout);
  }
  return 0;
}

int cmd_customer_list(Context& ctx, const ListArgs& args) {
  ListQuery q;
  for (const auto& w : args.where) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(Errc::usage, "--where \"" + w + "\": expected FIELD=VALUE");
    }
    q.where.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  q.search = args.search;
  q.sort = args.sort;
  q.limit = args.limit;
  q.deleted = args.deleted;
  q.tags = args.tags;
  q.region = args.region;
  q.owner = args.owner;
  q.stage = args.stage;
  q.stale_days = args.stale_days;
  if (q.stale_days) q.today = today_local();
  auto records = ctx.replica().list(q);
  print_list(ctx, records, std::cout);
  return 0;
}

int cmd_customer_delete(Context& ctx, const std::string& code, bool restore) {
  auto& rep = ctx.replica();
  if (!rep.find_customer(code)) throw Error(Errc::not_found, "no customer " + code);
  Record r = restore ? rep.restore(code) : rep.remove(code);
  if (ctx.json) {
    print_json(record_json(r), std::cout);
  } else {
    bool zh = ctx.lang == Lang::zh;
    std::cout << r.code << (restore ? (zh ? " 已恢复\n" : " restored\n")
                                    : (zh ? " 已移入回收站\n" : " moved to the recycle bin\n"));
  }
  return 0;
}

int cmd_child_list(Context& ctx, const std::string& collection, const std::string& code) {
  auto& rep = ctx.replica();
  auto customer = rep.find_customer(code);
  if (!customer) throw Error(Errc::not_found, "no customer " + code);
  ListQuery q;
  q.collection = collection;
  q.parent = customer->id;
  auto records = rep.list(q);
  print_list(ctx, records, std::cout);
  return 0;
}

int cmd_history(Context& ctx, const std::string& code, const std::string& field) {
  auto& rep = ctx.replica();
  Record r = rep.require(code);
  print_history(ctx, r, rep.history(r.id, field), std::cout);
  return 0;
}

}  // namespace kehu::cli
