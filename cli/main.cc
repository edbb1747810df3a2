// `kehu`: the command line over core + sync. The only place that includes CLI11
// (a heavy header) and the only place that turns kehu::Error into an exit code.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <vector>
#include <clocale>
#include <functional>
#include <iostream>

#include "commands.h"
#include "help_zh.h"
#include "suggest.h"
#include "kehu/error.h"
#include "kehu/text.h"

using namespace kehu;
using namespace kehu::cli;

namespace {

// A count option (std::size_t): CLI11 reads "-1" through strtoull as the
// largest number, so `--limit -1` listed everything (walkthrough 15, R15-6).
const CLI::Validator kCount(
    [](std::string& s) -> std::string {
      return s.find('-') == std::string::npos ? std::string() : "expected a whole number, 0 or more, not " + s;
    },
    "");  // no description: the option's type name stays UINT (help_zh.cc value_rule)

// Adds "SUB add|list|edit|delete|restore" commands for a child collection of customers.
void add_child_commands(CLI::App& app, Context& ctx, std::function<int()>& action,
                        const char* name, const char* collection, const char* what) {
  auto* cmd = app.add_subcommand(name, what);
  cmd->require_subcommand(1);
  auto* add = cmd->add_subcommand("add", "add " + article(name) + " " + name + " to a customer");
  auto code = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  auto deleted = std::make_shared<bool>(false);
  add->add_option("CODE", *code, "customer code")->required();
  add->add_option("--set", *sets, "FIELD=VALUE (key or Chinese label)")->required();
  add->callback([&, code, sets, collection] {
    action = [&, code, sets, collection] { return cmd_record_add(ctx, collection, *code, *sets); };
  });
  auto* list = cmd->add_subcommand("list", std::string("list a customer's ") + collection + ", with their IDs");
  list->add_option("CODE", *code, "customer code")->required();
  list->add_flag("--deleted", *deleted, "list the recycle bin");
  list->callback([&, code, deleted, collection] {
    action = [&, code, deleted, collection] { return cmd_child_list(ctx, collection, *code, *deleted); };
  });
  auto* edit = cmd->add_subcommand("edit", std::string("change fields of a ") + name);
  edit->add_option("ID", *code, std::string("the ID `") + name + " list` shows")->required();
  edit->add_option("--set", *sets, "FIELD=VALUE; an empty VALUE clears the field")->required();
  edit->callback([&, code, sets, collection] {
    action = [&, code, sets, collection] { return cmd_child_edit(ctx, collection, *code, *sets); };
  });
  for (bool restore : {false, true}) {
    auto* del = cmd->add_subcommand(restore ? "restore" : "delete",
                                    std::string(restore ? "bring a " : "move a ") + name +
                                        (restore ? " back from the recycle bin" : " to the recycle bin"));
    del->add_option("ID", *code, std::string("the ID `") + name + " list` shows")->required();
    del->callback([&, code, collection, restore] {
      action = [&, code, collection, restore] { return cmd_child_delete(ctx, collection, *code, restore); };
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_CTYPE, "");
  // The replica is encrypted, but its name, size and side files are nobody else's business.
  ::umask(077);
  CLI::App app{"kehu: offline-first customer table (encrypted local replica, field-level sync)"};
  app.require_subcommand(1);
  app.fallthrough();
  Context ctx;
  app.add_option("--db", ctx.db_path, "replica file (default: KEHU_DB or ~/.kehu/replica.db)");
  app.add_option("--key-file", ctx.key_file, "read the passphrase from this file's first line");
  app.add_flag("--json", ctx.json, "print data as JSON");
  app.add_flag("--wide", ctx.wide, "tables show every cell whole instead of fitting the terminal's width");
  app.add_flag("--utc", ctx.utc, "show times in UTC, not in the local time zone (--json is always UTC)");
  std::function<int()> action;

  app.add_subcommand("init", "create a new encrypted replica")->callback([&] {
    action = [&] { return cmd_init(ctx); };
  });

  auto* customer = app.add_subcommand("customer", "add, edit, show, list, delete customers");
  customer->require_subcommand(1);
  std::string code, field, keep;
  std::vector<std::string> sets;
  bool force = false;
  auto* cadd = customer->add_subcommand("add", "add a customer; prints its new code");
  cadd->add_option("--set", sets, "FIELD=VALUE (key or Chinese label)")->required();
  cadd->add_flag("--force", force, "add even if it looks like a duplicate (same phone, WeChat or name)");
  cadd->callback([&] { action = [&] { return cmd_customer_add(ctx, sets, force); }; });
  auto* cedit = customer->add_subcommand("edit", "change fields of a customer");
  cedit->add_option("CODE", code, "customer code")->required();
  cedit->add_option("--set", sets, "FIELD=VALUE; an empty VALUE clears the field")->required();
  cedit->callback([&] { action = [&] { return cmd_customer_edit(ctx, code, sets); }; });
  auto* cshow = customer->add_subcommand("show", "show one customer");
  cshow->add_option("CODE", code, "customer code")->required();
  cshow->callback([&] { action = [&] { return cmd_customer_show(ctx, code); }; });
  ListArgs list_args;
  auto* clist = customer->add_subcommand("list", "list customers");
  clist->add_option("--where", list_args.where, "FIELD=VALUE filter (repeatable)");
  clist->add_option("--search", list_args.search, "text in code, name, contact, phone, need or notes");
  clist->add_option("--sort", list_args.sort, "field to sort by; -FIELD for descending");
  clist->add_flag("--pinyin", list_args.pinyin, "sort text by pinyin (安 < 北 < 张), e.g. --sort name --pinyin");
  clist->add_option("--limit", list_args.limit, "at most this many (0: all)")->check(kCount);
  clist->add_option("--offset", list_args.offset, "skip this many matches first (the next page: --offset 50 --limit 50)")
      ->check(kCount);
  clist->add_flag("--deleted", list_args.deleted, "list the recycle bin");
  clist->add_option("--tag", list_args.tags, "customers with this tag (repeatable: all must be on it)");
  clist->add_option("--region", list_args.region, "PROVINCE or PROVINCE/CITY, e.g. 江苏 or 江苏/南京");
  clist->add_option("--owner", list_args.owner, "customers of this owner (负责人)");
  clist->add_flag("--pool", list_args.pool, "customers in the public pool (公海), with no owner");
  clist->add_option("--stage", list_args.stage, "sales stage (销售阶段): key or Chinese label");
  clist->add_option("--stale", list_args.stale_days, "not followed up in DAYS days (never followed up counts)");
  clist->callback([&] { action = [&] { return cmd_customer_list(ctx, list_args); }; });
  auto* cdel = customer->add_subcommand("delete", "move a customer to the recycle bin");
  cdel->add_option("CODE", code, "customer code")->required();
  cdel->callback([&] { action = [&] { return cmd_customer_delete(ctx, code, false); }; });
  auto* crest = customer->add_subcommand("restore", "bring a customer back from the recycle bin");
  crest->add_option("CODE", code, "customer code")->required();
  crest->callback([&] { action = [&] { return cmd_customer_delete(ctx, code, true); }; });
  customer->add_subcommand("duplicates", "likely duplicates: customers sharing a phone, WeChat or name")
      ->callback([&] { action = [&] { return cmd_customer_duplicates(ctx); }; });
  std::string merge_other;
  bool merge_dry_run = false;
  auto* cmerge = customer->add_subcommand("merge", "merge OTHER into KEEP (children move, OTHER to the recycle bin)");
  cmerge->add_option("KEEP", code, "the customer that stays")->required();
  cmerge->add_option("OTHER", merge_other, "the customer merged into it")->required();
  cmerge->add_flag("--dry-run", merge_dry_run, "show what would happen, write nothing");
  bool merge_force = false;
  cmerge->add_flag("--force", merge_force, "merge two customers that share no name, phone or WeChat");
  cmerge->callback([&] {
    action = [&] { return cmd_customer_merge(ctx, code, merge_other, merge_dry_run, merge_force); };
  });

  std::string reason, owner;
  auto* cclaim = customer->add_subcommand("claim", "take a customer from the public pool (公海)");
  cclaim->add_option("CODE", code, "customer code")->required();
  cclaim->callback([&] { action = [&] { return cmd_claim(ctx, code); }; });
  auto* crelease = customer->add_subcommand("release", "return your customer to the public pool (公海)");
  crelease->add_option("CODE", code, "customer code")->required();
  crelease->add_option("--reason", reason, "why it goes back to the pool")->required();
  crelease->callback([&] { action = [&] { return cmd_release(ctx, code, reason); }; });
  auto* creassign = customer->add_subcommand("reassign", "give a customer to another user (managers)");
  creassign->add_option("CODE", code, "customer code")->required();
  creassign->add_option("USER", owner, "the new owner")->required();
  creassign->add_option("--reason", reason, "why");
  creassign->callback([&] { action = [&] { return cmd_reassign(ctx, code, owner, reason); }; });

  bool all_requests = false;
  auto* approvals = app.add_subcommand("approvals", "change requests of protected fields");
  approvals->add_flag("--all", all_requests, "decided ones too");
  approvals->callback([&] { action = [&] { return cmd_approvals(ctx, all_requests); }; });
  std::string request_id;
  auto* approve = app.add_subcommand("approve", "approve a change request (managers)");
  approve->add_option("ID", request_id, "request id (see `kehu approvals`)")->required();
  approve->callback([&] { action = [&] { return cmd_decide(ctx, request_id, true, ""); }; });
  auto* reject = app.add_subcommand("reject", "reject a change request (managers)");
  reject->add_option("ID", request_id, "request id (see `kehu approvals`)")->required();
  reject->add_option("--reason", reason, "why")->required();
  reject->callback([&] { action = [&] { return cmd_decide(ctx, request_id, false, reason); }; });

  add_child_commands(app, ctx, action, "followup", "followups", "follow-ups of a customer");
  add_child_commands(app, ctx, action, "order", "orders", "orders of a customer");
  add_child_commands(app, ctx, action, "contact", "contacts", "contacts of a customer");
  add_child_commands(app, ctx, action, "service", "services", "service records of a customer (咨询, 投诉, 反馈)");
  add_child_commands(app, ctx, action, "activity", "activities", "marketing activities a customer took part in");

  auto* history = app.add_subcommand("history", "revisions of a customer, newest first");
  history->add_option("CODE", code, "customer code")->required();
  history->add_option("--field", field, "only revisions that changed this field");
  history->callback([&] { action = [&] { return cmd_history(ctx, code, field); }; });

  std::string file;
  bool dry_run = false;
  ImportArgs import_args;
  auto* imp = app.add_subcommand("import", "import a sheet: .csv (UTF-8 or GB18030) or .xlsx");
  imp->add_option("FILE", file, "the sheet")->required();
  imp->add_flag("--dry-run", import_args.dry_run, "validate and report creates, updates and conflicts; write nothing");
  imp->add_flag("--skip-bad", import_args.skip_bad, "import the good rows even if some are bad");
  imp->add_option("--sheet", import_args.sheet, "the worksheet of an .xlsx workbook (default: the first)");
  imp->add_option("--map", import_args.maps, "\"列名=field\": the column 列名 fills field (repeatable; remembered for these headers)");
  imp->add_flag("--force", import_args.force, "import rows that look like duplicates of other customers");
  imp->add_option("--header-row", import_args.header_row, "the sheet row (1-based) holding the column headers (default: found among the first 10 rows)");
  imp->add_option("--duplicates-csv", import_args.duplicates_csv, "where to write the possible duplicates found within the sheet (default: SHEET.duplicates.csv beside it)");
  imp->callback([&] { action = [&] { return cmd_import(ctx, file, import_args); }; });
  auto* exp = app.add_subcommand("export", "export customers: .csv (UTF-8 with BOM) or .xlsx (Excel)");
  exp->add_option("FILE", file, "output file")->required();
  bool replace = false;
  exp->add_flag("--force", replace, "replace FILE if it exists (without it an existing file is kept and nothing is written)");
  exp->callback([&] { action = [&] { return cmd_export(ctx, file, replace); }; });

  app.add_subcommand("status", "replica, sync and pending-change status")->callback([&] {
    action = [&] { return cmd_status(ctx); };
  });
  auto* backup = app.add_subcommand("backup", "write a consistent encrypted copy");
  backup->add_option("FILE", file, "destination")->required();
  bool replace_backup = false;
  backup->add_flag("--force", replace_backup, "replace FILE if it exists (without it an existing file is kept and nothing is written)");
  backup->callback([&] { action = [&] { return cmd_backup(ctx, file, replace_backup); }; });
  app.add_subcommand("rekey", "change the passphrase")->callback([&] {
    action = [&] { return cmd_rekey(ctx); };
  });

  NetArgs net;
  std::string server, user;
  auto* login = app.add_subcommand("login", "log in to the team's server");
  login->add_option("--server", server, "server URL, e.g. https://kehu.example.com")->required();
  login->add_option("--user", user, "user name")->required();
  login->add_option("--ca-file", net.ca_file, "trust this CA bundle");
  login->add_flag("--insecure", net.insecure, "skip TLS certificate checks (development only)");
  login->callback([&] { action = [&] { return cmd_login(ctx, server, user, net); }; });
  auto* logout = app.add_subcommand("logout", "revoke the session token on the server and forget it here");
  logout->add_option("--ca-file", net.ca_file, "trust this CA bundle");
  logout->add_flag("--insecure", net.insecure, "skip TLS certificate checks (development only)");
  logout->callback([&] { action = [&] { return cmd_logout(ctx, net); }; });
  auto* passwd = app.add_subcommand(
      "passwd", "change your password on the server (KEHU_PASSWORD / KEHU_NEW_PASSWORD or prompts)");
  passwd->add_option("--ca-file", net.ca_file, "trust this CA bundle");
  passwd->add_flag("--insecure", net.insecure, "skip TLS certificate checks (development only)");
  passwd->callback([&] { action = [&] { return cmd_passwd(ctx, net); }; });
  auto* sync = app.add_subcommand("sync", "push local changes, then pull the team's");
  sync->add_option("--ca-file", net.ca_file, "trust this CA bundle");
  sync->add_flag("--insecure", net.insecure, "skip TLS certificate checks (development only)");
  bool watch = false;
  sync->add_flag("--watch", watch,
                 "keep syncing: push each edit at once, receive the team's as they land; Ctrl-C stops");
  sync->callback([&] {
    action = [&] { return watch ? cmd_sync_watch(ctx, net, kWatchWaitSeconds) : cmd_sync(ctx, net); };
  });
  auto* conflicts = app.add_subcommand("conflicts", "list open conflicts");
  conflicts->callback([&] {
    if (!action) action = [&] { return cmd_conflicts(ctx); };
  });
  auto* resolve = conflicts->add_subcommand("resolve", "keep one side of a conflict");
  resolve->add_option("CODE", code, "customer code, or the record id `kehu conflicts` shows")->required();
  resolve->add_option("FIELD", field, "field key or label")->required();
  resolve->add_option("--keep", keep, "theirs|mine|current (the value the field holds now)")->required();
  resolve->callback([&] { action = [&] { return cmd_conflict_resolve(ctx, code, field, keep); }; });

  std::int64_t seq = 0;
  std::vector<std::string> drops;
  auto* rejected = app.add_subcommand("rejected", "edits the server refused, kept with what was typed");
  rejected->callback([&] {
    if (!action) action = [&] { return cmd_rejected(ctx); };
  });
  auto* retry = rejected->add_subcommand("retry", "re-apply a refused edit, changed with --set / --drop");
  retry->add_option("NUMBER", seq, "the # that `kehu rejected` shows")->required();
  retry->add_option("--set", sets, "FIELD=VALUE to apply instead of what was typed");
  retry->add_option("--drop", drops, "a field of the edit to leave out");
  retry->callback([&] { action = [&] { return cmd_rejected_retry(ctx, seq, sets, drops); }; });
  auto* dismiss = rejected->add_subcommand("dismiss", "forget a refused edit");
  dismiss->add_option("NUMBER", seq, "the # that `kehu rejected` shows")->required();
  dismiss->callback([&] { action = [&] { return cmd_rejected_dismiss(ctx, seq); }; });

  AuditArgs audit_args;
  auto* audit = app.add_subcommand("audit", "revisions on the server by user, date and customer (newest first)");
  audit->add_option("--user", audit_args.user, "only this user's revisions");
  audit->add_option("--since", audit_args.since, "from this day (YYYY-MM-DD, local; or today) or UTC time");
  audit->add_option("--until", audit_args.until, "up to this day, included (YYYY-MM-DD, local; or today)");
  audit->add_option("--customer", audit_args.customer, "a customer (code or old code) and its child records");
  audit->add_option("--limit", audit_args.limit, "show at most this many (default 100)");
  audit->add_option("--ca-file", net.ca_file, "trust this CA bundle");
  audit->add_flag("--insecure", net.insecure, "skip TLS certificate checks (development only)");
  audit->callback([&] { action = [&] { return cmd_audit(ctx, audit_args, net); }; });
  std::int64_t to_rev = 0;
  auto* revert = app.add_subcommand("revert", "restore a customer's fields as they were at a revision");
  revert->add_option("CODE", code, "customer code (or a record id)")->required();
  revert->add_option("--to-rev", to_rev, "the server revision to go back to")->required();
  revert->add_option("--field", field, "only this field");
  revert->callback([&] { action = [&] { return cmd_revert(ctx, code, to_rev, field); }; });

  std::int64_t due_days = 7;
  auto* due = app.add_subcommand("due", "follow-ups due, birthdays, quiet intention customers, churn candidates");
  std::int64_t due_limit = 0;
  due->add_option("--days", due_days, "look this many days ahead (default 7)");
  due->add_option("--limit", due_limit, "at most this many per list (0 = all)");
  due->callback([&] { action = [&] { return cmd_due(ctx, due_days, due_limit); }; });
  auto* rules = app.add_subcommand("rules", "the reminder rules; an admin sets churn-days");
  rules->callback([&] {
    if (!action) action = [&] { return cmd_rules_show(ctx); };
  });
  std::string rule_name;
  std::vector<std::string> rule_values;
  auto* rset = rules->add_subcommand(
      "set", "set a rule for the whole team (admin): churn-days N | stage-probability "
             "contact=10,needs=25,... | target OWNER PERIOD AMOUNT");
  rset->add_option("NAME", rule_name, "churn-days, stage-probability or target")->required();
  rset->add_option("VALUE", rule_values, "days | STAGE=PERCENT,... | OWNER PERIOD(YYYY, YYYY-MM, YYYY-Qn) YUAN")
      ->required();
  rset->callback([&] { action = [&] { return cmd_rules_set(ctx, rule_name, rule_values); }; });
  auto* runset = rules->add_subcommand("unset", "remove a team target (admin): target OWNER PERIOD");
  runset->add_option("NAME", rule_name, "target")->required();
  runset->add_option("VALUE", rule_values, "OWNER PERIOD")->required();
  runset->callback([&] { action = [&] { return cmd_rules_unset(ctx, rule_name, rule_values); }; });
  auto* rchurn = rules->add_subcommand("apply-churn", "set deal customers quiet for churn-days to lost");
  rchurn->add_flag("--dry-run", dry_run, "list them, change nothing");
  rchurn->callback([&] { action = [&] { return cmd_rules_apply_churn(ctx, dry_run); }; });

  // Reports (commands_report.cc): offline on the replica.
  ReportArgs report_args;
  auto* report = app.add_subcommand("report", "funnel, sources, churn, sum, targets, forecast, value (RFM)");
  report->require_subcommand(1);
  auto add_report = [&](const char* kind, const char* what) {
    auto* sub = report->add_subcommand(kind, what);
    sub->add_option("--csv", report_args.csv, "also write the table to this CSV file");
    sub->add_option("--xlsx", report_args.xlsx, "also write an Excel workbook with a chart");
    sub->add_flag("--force", report_args.force,
                  "replace FILE if it exists (without it an existing file is kept and nothing is written)");
    sub->callback([&, kind] {
      report_args.kind = kind;
      action = [&] { return cmd_report(ctx, report_args); };
    });
    return sub;
  };
  add_report("funnel", "customers per sales stage and conversion between stages")
      ->add_option("--by", report_args.by, "owner, region (province) or city");
  add_report("sources", "customers and conversion per source, per quarter")
      ->add_option("--year", report_args.year, "only this year");
  add_report("churn", "lost customers per year and reason");
  auto* rsum = add_report("sum", "sum of a field: orders.amount --by customer|owner|region|month");
  rsum->add_option("FIELD", report_args.target, "COLLECTION.FIELD, e.g. orders.amount")->required();
  rsum->add_option("--by", report_args.by, "customer, owner, region or month")->required();
  rsum->add_option("--where", report_args.where, "FIELD=VALUE (repeatable), e.g. status=delivered");
  add_report("targets", "targets against delivered order amounts, per owner and period");
  add_report("forecast", "open pipeline weighted by stage probability, per owner and month");
  add_report("value", "customer value by recency, frequency and amount (RFM)")
      ->add_option("--limit", report_args.limit, "customers listed per segment (default 20, 0 = all)")
      ->check(kCount);

  AddFieldArgs field_args;
  std::string schema_collection;
  auto* schema = app.add_subcommand("schema", "the fields of each collection; an admin adds custom fields");
  schema->require_subcommand(1);
  auto* sadd = schema->add_subcommand("add-field", "add a custom field for the whole team (admin, online)");
  sadd->add_option("COLLECTION", field_args.collection, "customers, followups, orders, ...")->required();
  sadd->add_option("KEY", field_args.key, "canonical key: [a-z][a-z0-9_]{0,31}")->required();
  sadd->add_option("--type", field_args.type, "text, integer, money, date, datetime, enum, tags, phone, email")
      ->required();
  sadd->add_option("--label", field_args.label, "Chinese label, e.g. 会员等级")->required();
  sadd->add_option("--label-en", field_args.label_en, "English label (default: the Chinese one)");
  sadd->add_option("--values", field_args.values, "enum values: \"金卡,银卡\" or \"gold:金卡,silver:银卡\"");
  sadd->add_flag("--required", field_args.required, "new records must have it");
  sadd->add_flag("--restricted", field_args.restricted, "never sent to sales users (like 信用等级)");
  sadd->add_option("--ca-file", net.ca_file, "trust this CA bundle");
  sadd->add_flag("--insecure", net.insecure, "skip TLS certificate checks (development only)");
  sadd->callback([&] { action = [&] { return cmd_schema_add_field(ctx, field_args, net); }; });
  auto* slist = schema->add_subcommand("list", "built-in and custom fields, with type, label and rules");
  slist->add_option("COLLECTION", schema_collection, "only this collection");
  slist->callback([&] { action = [&] { return cmd_schema_list(ctx, schema_collection); }; });

  const bool zh = lang_from_environment(/*warn=*/false) == Lang::zh;
  if (zh) localize_help(app);
  // A number typed with the input method in full-width mode (approve ６,
  // --days ７, rejected dismiss ３２) is the number (walkthrough 13, R13-6).
  std::vector<std::string> folded(argv, argv + argc);
  std::vector<char*> args;
  for (auto& a : folded) {
    if (std::string f = fold_fullwidth(a); f != a && !f.empty() && f.find_first_not_of("#0123456789") == std::string::npos) {
      a = std::move(f);
    }
    args.push_back(a.data());
  }
  try {
    app.parse(argc, args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // `kehu audit verify`: the chain lives on the server (walkthrough 15, R15-11).
    for (int i = 1; i + 1 < argc; ++i) {
      if (std::string(argv[i]) == "audit" && std::string(argv[i + 1]) == "verify") {
        std::cerr << (zh ? "kehu: 修订链在服务器上，由服务器管理员检查：kehu-server audit verify --data 目录（或 --store URL）\n"
                         : "kehu: the revision chain is on the server, checked there by its admin: kehu-server audit "
                           "verify --data DIR (or --store URL)\n");
        return 2;
      }
    }
    // A mistyped command or option: name it and suggest the nearest.
    if (auto said = explain_unknown(app, argc, argv, zh)) {
      std::cerr << "kehu: " << *said << '\n';
      return 2;
    }
    std::cerr << "kehu: " << parse_error_text(app, e, zh) << '\n';
    return 2;
  }
  // Before anything that may fail (KEHU_TODAY), so that its message is in the user's language.
  set_message_lang(zh ? Lang::zh : Lang::en);
  try {
    set_today_from_env();
    apply_environment(ctx);
    return action ? action() : 2;
  } catch (const Error& e) {
    std::cerr << "kehu: " << e.what() << '\n';
    return exit_code(e.code());
  } catch (const std::exception& e) {
    std::cerr << tr("kehu: internal error: ", "kehu: 内部错误：") << e.what() << '\n';
    return 1;
  }
}
