// Printing records, lists and history: aligned tables for people (display width,
// so Chinese lines up), JSON for programs (--json).
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "context.h"
#include "kehu/error.h"
#include "kehu/record.h"
#include "kehu/record_name.h"
#include "kehu/replica.h"

namespace kehu::cli {

// {canonical field keys..., "id", "code", "rev", "deleted", "pending"}.
json record_json(const Record& r);

// "1234567.50" -> "1,234,567.50" (anything but a plain number comes back as it is).
std::string group_thousands(const std::string& number);
// A role key ("manager") as people read it: 经理 under KEHU_LANG=zh, the key in English.
std::string role_shown(const std::string& role);
// Throws Error(forbidden) unless the replica's last login is an admin's, naming
// the action ("add fields" / "添加字段"), who this replica is, and who can do it.
// A replica belongs to one user: logging in here as an admin is no way out.
// `server_command`: the kehu-server command that does the same on the server, if any.
void require_admin(const Replica& rep, const std::string& action_en, const std::string& action_zh,
                   const char* server_command = nullptr);

void print_record(const Context& ctx, const Record& r, std::ostream& out);
void print_records(const Context& ctx, const std::vector<Record>& records, std::ostream& out);
// A list as a table, or as a JSON array of record_json() with --json.
void print_list(const Context& ctx, const std::vector<Record>& records, std::ostream& out);
void print_history(const Context& ctx, const Record& r,
                   const std::vector<Replica::HistoryEntry>& entries, std::ostream& out);
// A table for people (kehu::render_table): on a terminal (or with COLUMNS set),
// cells cut at `max_cell_width` and the lines fitted to its width, cut cells
// ending with "…" and columns left off said under the table; into a pipe or a
// file without COLUMNS, and with --wide, every cell whole.
//
// `Narrow::blocks`: a table whose every column says what happened (audit,
// history, conflicts, refusals, approvals, reminders) does not give way on a
// narrow terminal; each row is printed as a block of "header: value" lines
// instead, whole (walkthrough 6, R6-2: at 40 columns only who and when were
// left). A row whose first cell is empty continues the block above it.
enum class Narrow { hide_columns, blocks };
std::string table(const Context& ctx, const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows, std::size_t max_cell_width = 0,
                  Narrow narrow = Narrow::hide_columns);
// The width tables are fitted to: COLUMNS when it is a positive number, else the
// width of the terminal that standard output is, else 0 (no limit).
std::size_t terminal_columns();

// An existing file the command would replace: kept unless --force.
Error exists_error(const std::string& file);
// Throws exists_error for an existing FILE (not a folder) unless `replace`.
void refuse_existing_file(const std::string& file, bool replace);

// Writes j as pretty JSON with non-ASCII kept as UTF-8.
void print_json(const json& j, std::ostream& out);

// A field's label in the context's language (the key for unknown fields).
std::string label_of(const Context& ctx, const std::string& collection, const std::string& key);
// What a salesperson's customer delete may still wait for, said where the
// delete is (walkthrough 8, R8-10; 9, R9-2); "" for other roles.
std::string sales_delete_note(Context& ctx);
// The fields of `collection` whose edit by a sales user waits for a manager's
// approval, as the last sync said (kProtectedFieldsMeta); none before one.
std::vector<std::string> protected_fields(Context& ctx, const std::string& collection);
// A stored value as the sheet shows it (enum labels, money in yuan, tags a;b).
std::string show_value(const Context& ctx, const std::string& collection, const std::string& key,
                       const json& v);
// A word the product keeps in English (an op, a state, a request's status, a
// field type: kehu/field_type_words.h) in the context's language: "update" is
// 修改 in Chinese; an unknown word as it is.
std::string show_word(const Context& ctx, const std::string& word);
// A revision's cause as the user reads it. Causes are stored in English, from a
// fixed set (the server's claim, release, reassignment, recycle and approval; the
// device's churn rule, merge and revert); with KEHU_LANG=zh these read in
// Chinese. Anything else is shown as stored.
std::string show_cause(const Context& ctx, const std::string& cause);
// A time for people: "2026-12-04 19:31" in the local time zone, or
// "2026-12-04 11:31 UTC" with --utc. `iso` is YYYY-MM-DDTHH:MM:SS[.fff]Z (as the
// server, the log and a device's clock keep it); anything else is shown as it is.
std::string show_time(const Context& ctx, const std::string& iso);
// The wall-clock time of a hybrid clock reading (when a device made an edit).
std::string show_hlc_time(const Context& ctx, std::int64_t hlc);

// A revision's conflicts and the conflicts it settled, as (field label, text)
// rows of `history` and `audit`: "conflict: kept A (wang), lost B (li)",
// "settled the conflicts up to rev 3".
std::vector<std::pair<std::string, std::string>> conflict_cells(const Context& ctx, const Revision& rev);
// The changed fields in the order the sheet shows them (schema order), then any
// the schema does not know, then the recycle-bin flag.
std::vector<std::string> in_schema_order(const std::string& collection,
                                         const std::map<std::string, FieldChange>& changes);

}  // namespace kehu::cli
