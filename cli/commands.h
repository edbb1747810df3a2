// The `kehu` subcommands. Each returns the process exit code; errors are thrown
// as kehu::Error and turned into messages and exit codes in main.cc only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "context.h"
#include "kehu/record_name.h"

namespace kehu::cli {

// "FIELD=VALUE" --set arguments as field inputs; Error(usage) for one without "=".
FieldInputs parse_sets(const std::vector<std::string>& sets);
// FIELD=VALUE pairs of `option` (--set, --where): Error(usage) naming the one
// that has no '=' or no field.
FieldInputs parse_pairs(const std::string& option, const std::vector<std::string>& pairs);

struct SetArgs {
  std::vector<std::string> sets;  // "FIELD=VALUE"
};

int cmd_init(Context& ctx);
int cmd_record_add(Context& ctx, const std::string& collection, const std::string& customer,
                   const std::vector<std::string>& sets);
int cmd_customer_edit(Context& ctx, const std::string& code, const std::vector<std::string>& sets);
int cmd_customer_show(Context& ctx, const std::string& code);
struct ListArgs {
  std::vector<std::string> where;
  std::string search, sort;
  std::size_t limit = 0;
  std::size_t offset = 0;                       // --offset: matches skipped (the next page)
  bool deleted = false;
  bool pinyin = false;                          // --pinyin: text sorts in pinyin order
  std::vector<std::string> tags;                // --tag (repeatable)
  std::optional<std::string> region, owner, stage;
  bool pool = false;  // --pool: the public pool (公海), customers with no owner
  std::optional<std::int64_t> stale_days;       // --stale DAYS
};
int cmd_customer_list(Context& ctx, const ListArgs& args);
int cmd_customer_delete(Context& ctx, const std::string& code, bool restore);
// A customer's records of a child collection (followups, orders, contacts,
// services, activities); `deleted`: those in the recycle bin.
int cmd_child_list(Context& ctx, const std::string& collection, const std::string& code,
                   bool deleted = false);
// Edit / move to the recycle bin / restore one child record by ID: its full id
// or the short id lists show (the id's last 8 characters; 6 or more accepted).
// Error(not_found) for no such record of `collection`, Error(usage) for a short
// id that several records end with. Each is a change that syncs like a
// customer's.
int cmd_child_edit(Context& ctx, const std::string& collection, const std::string& id,
                   const std::vector<std::string>& sets);
int cmd_child_delete(Context& ctx, const std::string& collection, const std::string& id, bool restore);
int cmd_history(Context& ctx, const std::string& code, const std::string& field);
// The record a typed reference names: a customer code, a record id, or a child
// record's short id as lists show it. Error(not_found) for none.
Record find_record_ref(Replica& rep, const std::string& typed);
// import / export: .csv or .xlsx by the file's extension (commands_replica.cc).
struct ImportArgs {
  bool dry_run = false, skip_bad = false;
  std::string sheet;              // --sheet NAME (xlsx)
  std::vector<std::string> maps;  // --map "列名=field" (repeatable)
  bool force = false;             // --force: import likely duplicates too (duplicates.h)
  std::string header_row;         // --header-row N (1-based sheet row); empty: find it
  std::string duplicates_csv;     // --duplicates-csv FILE; empty: next to the sheet
};
int cmd_import(Context& ctx, const std::string& file, const ImportArgs& args);
int cmd_export(Context& ctx, const std::string& file, bool replace);
int cmd_status(Context& ctx);
int cmd_backup(Context& ctx, const std::string& file, bool replace);
int cmd_rekey(Context& ctx);

struct NetArgs {
  std::string ca_file;
  bool insecure = false;
};
}  // namespace kehu::cli
namespace kehu::sync {
struct SyncOptions;
}
namespace kehu::cli {
// The client options for `net` (commands_sync.cc): --ca-file (checked, made
// absolute) or else, but not for login, the CA file remembered at login
// (checked); --insecure (with a warning on stderr); a progress line on a terminal.
// Throws Error(usage) for an unreadable or non-PEM --ca-file, Error(io) for a
// remembered one that is gone.
sync::SyncOptions net_options(Context& ctx, const NetArgs& net, bool login = false);
int cmd_login(Context& ctx, const std::string& server, const std::string& user, const NetArgs& net);
int cmd_logout(Context& ctx, const NetArgs& net);
int cmd_passwd(Context& ctx, const NetArgs& net);
int cmd_sync(Context& ctx, const NetArgs& net);
// commands_watch.cc: `kehu sync --watch`, continuous sync until Ctrl-C or
// SIGTERM (exit 0), or an error retrying cannot mend (unauthorized, ...).
// `wait_seconds`: how long each waiting pull may be held.
int cmd_sync_watch(Context& ctx, const NetArgs& net, int wait_seconds);
// Under the minute after which proxies and NAT gateways drop a quiet connection.
inline constexpr int kWatchWaitSeconds = 25;
int cmd_conflicts(Context& ctx);
int cmd_conflict_resolve(Context& ctx, const std::string& code, const std::string& field,
                         const std::string& keep);

// commands_rejected.cc
int cmd_rejected(Context& ctx);
int cmd_rejected_retry(Context& ctx, std::int64_t seq, const std::vector<std::string>& sets,
                       const std::vector<std::string>& drop);
int cmd_rejected_dismiss(Context& ctx, std::int64_t seq);

// commands_audit.cc
struct AuditArgs {
  std::string user, since, until, customer;  // filters; empty: not given
  std::int64_t limit = 100;                  // revisions to show at most
};
int cmd_audit(Context& ctx, const AuditArgs& args, const NetArgs& net);
int cmd_revert(Context& ctx, const std::string& code, std::int64_t to_rev, const std::string& field);

// Reminders and rules (commands_due.cc).
// `limit`: at most this many reminders per list (per group of follow-ups:
// overdue, today, later in the window); 0 for all; Error(usage) if negative.
int cmd_due(Context& ctx, std::int64_t days, std::int64_t limit = 0);
int cmd_rules_show(Context& ctx);
// `rules set NAME VALUE...`: churn-days N, stage-probability STAGE=P,..., target
// OWNER PERIOD AMOUNT; `rules unset target OWNER PERIOD`.
int cmd_rules_set(Context& ctx, const std::string& name, const std::vector<std::string>& values);
int cmd_rules_unset(Context& ctx, const std::string& name, const std::vector<std::string>& values);

// Reports (commands_report.cc, kehu/reports.h).
struct ReportArgs {
  std::string kind;    // funnel | sources | churn | sum | targets | forecast | value
  std::string target;  // sum: COLLECTION.FIELD
  std::string by;
  std::optional<int> year;
  std::size_t limit = 20;
  std::vector<std::string> where;  // sum: FIELD=VALUE
  std::string csv, xlsx;           // files to write besides the output
  bool force = false;              // replace them if they exist
};
int cmd_report(Context& ctx, const ReportArgs& args);
int cmd_rules_apply_churn(Context& ctx, bool dry_run);

// Custom fields (commands_schema.cc). add-field is online (admin); list reads the
// replica's schema (built-in plus the custom fields synced so far).
struct AddFieldArgs {
  std::string collection, key, type, label, label_en, values;
  bool required = false, restricted = false;
};
int cmd_schema_add_field(Context& ctx, const AddFieldArgs& args, const NetArgs& net);
int cmd_schema_list(Context& ctx, const std::string& collection);

// 查重 (commands_dups.cc, kehu/duplicates.h). customer add refuses a likely
// duplicate (exit 2) unless `force`.
int cmd_customer_add(Context& ctx, const std::vector<std::string>& sets, bool force);
int cmd_customer_duplicates(Context& ctx);
int cmd_customer_merge(Context& ctx, const std::string& keep, const std::string& other, bool dry_run,
                       bool force);
// The sync report's possible-duplicate lines (the first 20, then a count).
void print_possible_duplicates(const std::vector<std::string>& lines, bool more, bool zh,
                               std::ostream& out);

// Team commands (commands_team.cc): online, then a sync.
int cmd_claim(Context& ctx, const std::string& code);
int cmd_release(Context& ctx, const std::string& code, const std::string& reason);
int cmd_reassign(Context& ctx, const std::string& code, const std::string& owner, const std::string& reason);
int cmd_approvals(Context& ctx, bool all);
int cmd_decide(Context& ctx, const std::string& id, bool approve, const std::string& reason);

}  // namespace kehu::cli
