#include "postgres_store_txn.h"

#include <utility>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "postgres_store.h"
#include "record_state_codec.h"

namespace kehu::server {

namespace {

// BEGIN and the writer lock in one round trip. The key is a constant, not a
// value: PostgresStore::kWriterLockKey ("KEHU").
constexpr const char* kBeginWrite =
    "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(1262831701)";
static_assert(PostgresStore::kWriterLockKey == 1262831701, "kBeginWrite must lock kWriterLockKey");
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

// for_each_revision reads the log in pages of this many revisions.
constexpr std::int64_t kRevisionPage = 1000;



// Column lists are spelled out in each statement, so every statement is one
// constant string (the prepared-statement cache is keyed by it).
#define KEHU_USER_COLUMNS "name, role, password, disabled, created_at, regions, scope_version"
#define KEHU_REVISION_COLUMNS "seq, record_id, rev, change_id, body, prev_hash, hash"
#define KEHU_REQUEST_COLUMNS                                                               \
  "id, change_id, record_id, collection, requester, device, base_rev, fields, status, "    \
  "created_at, COALESCE(decided_by, ''), COALESCE(decided_at, ''), COALESCE(reason, ''), " \
  "COALESCE(seq, 0), resolves, cause"

User read_user(const pg::Result& r, int row) {
  User u;
  u.name = r.text(row, 0);
  auto role = parse_role(r.text(row, 1));
  if (!role)
    throw Error(Errc::storage,
                "user " + u.name + " has an unknown role \"" + r.text(row, 1) + "\"");
  u.role = *role;
  u.password_hash = r.text(row, 2);
  u.disabled = r.boolean(row, 3);
  u.created_at = r.text(row, 4);
  u.regions = split_regions(r.text(row, 5));
  u.scope_version = r.int64(row, 6);
  return u;
}

StoredRevision read_revision(const pg::Result& r, int row) {
  return StoredRevision{r.int64(row, 0), r.text(row, 1), r.int64(row, 2), r.text(row, 3),
                        r.text(row, 4),  r.text(row, 5), r.text(row, 6)};
}

std::vector<StoredRevision> read_revisions(const pg::Result& r) {
  std::vector<StoredRevision> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_revision(r, i));
  return out;
}

ChangeRequest read_request(const pg::Result& r, int row) {
  ChangeRequest c;
  c.id = r.int64(row, 0);
  c.change_id = r.text(row, 1);
  c.record_id = r.text(row, 2);
  c.collection = r.text(row, 3);
  c.requester = r.text(row, 4);
  c.device = r.text(row, 5);
  c.base_rev = r.int64(row, 6);
  c.fields = parse_stored(r.text(row, 7), "change request fields");
  c.status = r.text(row, 8);
  c.created_at = r.text(row, 9);
  c.decided_by = r.text(row, 10);
  c.decided_at = r.text(row, 11);
  c.reason = r.text(row, 12);
  c.seq = r.int64(row, 13);
  c.resolves = resolves_from_json(parse_stored(r.text(row, 14), "change request resolves"));
  c.cause = r.text(row, 15);
  return c;
}

}  // namespace

// --- transaction ---

void PostgresStoreTxn::start(pg::Connection& c, TxnMode mode) {
  c.exec(mode == TxnMode::write ? kBeginWrite : kBeginRead,
         mode == TxnMode::write ? "begin a write" : "begin a read");
}

void PostgresStoreTxn::abandon(pg::Lease& lease) noexcept {
  try {
    lease->exec("ROLLBACK", "roll back");
  } catch (const std::exception&) {
    lease.discard();
  }
}

PostgresStoreTxn::~PostgresStoreTxn() {
  if (open_ && lease_) abandon(lease_);
}

void PostgresStoreTxn::commit() {
  if (!open_) throw Error(Errc::internal, "transaction committed twice");
  // Delivered to every listening process when, and only if, COMMIT succeeds.
  if (!notice_.empty()) {
    pg::Params p;
    p.text(notice_.to_text(store_.origin()));
    lease_->run("SELECT pg_notify('kehu_commits', $1)", p, "notify");
  }
  open_ = false;
  pg::Result r;
  try {
    r = lease_->exec("COMMIT", "commit");
  } catch (const Error&) {
    // PostgreSQL ends the transaction when COMMIT fails; a lost connection is
    // closed by the pool.
    lease_.release();
    throw;
  }
  lease_.release();
  // COMMIT of a transaction an earlier statement aborted answers "ROLLBACK".
  if (r.status() != "COMMIT") {
    throw Error(Errc::storage, "the transaction was rolled back after an earlier error");
  }
  store_.tell(notice_);
}

void PostgresStoreTxn::require_write(const char* what) const {
  if (mode_ != TxnMode::write) {
    throw Error(Errc::internal, std::string(what) + " called in a read transaction");
  }
}

pg::Result PostgresStoreTxn::run(const char* sql, const pg::Params& params, const char* what) {
  if (!open_) throw Error(Errc::internal, std::string(what) + " called after commit");
  return lease_->run(sql, params, what);
}

std::vector<std::string> PostgresStoreTxn::column(const char* sql, const pg::Params& params,
                                                  const char* what) {
  pg::Result r = run(sql, params, what);
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
  return out;
}

// --- users ---

void PostgresStoreTxn::add_user(const User& user) {
  require_write("add_user");
  // Writers are serialised, so nobody can take the name between these two.
  if (find_user(user.name)) throw Error(Errc::exists, tr("user \"" + user.name + "\" exists already",
                                                          "用户“" + user.name + "”已存在"));
  pg::Params p;
  p.text(user.name).text(role_name(user.role)).text(user.password_hash).boolean(user.disabled);
  p.text(user.created_at).text(join_regions(user.regions)).int64(user.scope_version);
  run("INSERT INTO users(" KEHU_USER_COLUMNS ") VALUES($1, $2, $3, $4, $5, $6, $7)", p, "add_user");
}

std::optional<User> PostgresStoreTxn::find_user(std::string_view name) {
  pg::Params p;
  p.text(name);
  pg::Result r = run("SELECT " KEHU_USER_COLUMNS " FROM users WHERE name = $1", p, "find_user");
  if (r.rows() == 0) return std::nullopt;
  return read_user(r, 0);
}

void PostgresStoreTxn::update_user(const User& user) {
  require_write("update_user");
  pg::Params p;
  p.text(role_name(user.role)).text(user.password_hash).boolean(user.disabled);
  p.text(join_regions(user.regions)).int64(user.scope_version).text(user.name);
  pg::Result r = run(
      "UPDATE users SET role = $1, password = $2, disabled = $3, regions = $4, scope_version = $5 "
      "WHERE name = $6",
      p, "update_user");
  notice_.users.push_back(user.name);
  if (r.affected() == 0) throw Error(Errc::not_found, tr("no user \"" + user.name + "\"", "没有用户“" + user.name + "”"));
}

std::vector<User> PostgresStoreTxn::list_users() {
  // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
  pg::Result r =
      run("SELECT " KEHU_USER_COLUMNS " FROM users ORDER BY name COLLATE \"C\"", {}, "list_users");
  std::vector<User> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_user(r, i));
  return out;
}

// --- tokens ---

void PostgresStoreTxn::put_token(const Token& token) {
  require_write("put_token");
  pg::Params p;
  p.text(token.hash).text(token.user).text(token.device).int64(token.expires_at);
  pg::Result r =
      run("INSERT INTO tokens(hash, \"user\", device, expires_at) VALUES($1, $2, $3, $4) "
          "ON CONFLICT (hash) DO NOTHING",
          p, "put_token");
  if (r.affected() == 0)
    throw Error(Errc::storage, "put_token: a token with this hash exists already");
}

std::optional<Token> PostgresStoreTxn::find_token(std::string_view hash) {
  pg::Params p;
  p.text(hash);
  pg::Result r =
      run("SELECT hash, \"user\", device, expires_at FROM tokens WHERE hash = $1", p, "find_token");
  if (r.rows() == 0) return std::nullopt;
  return Token{r.text(0, 0), r.text(0, 1), r.text(0, 2), r.int64(0, 3)};
}

void PostgresStoreTxn::delete_token(std::string_view hash) {
  require_write("delete_token");
  pg::Params p;
  p.text(hash);
  // Its user's waiting pulls look at their tokens again, no one else's (A16-8).
  if (auto token = find_token(hash)) notice_.users.push_back(token->user);
  run("DELETE FROM tokens WHERE hash = $1", p, "delete_token");
}

void PostgresStoreTxn::delete_expired_tokens(std::int64_t now) {
  require_write("delete_expired_tokens");
  pg::Params p;
  p.int64(now);
  run("DELETE FROM tokens WHERE expires_at <= $1", p, "delete_expired_tokens");
}

void PostgresStoreTxn::delete_user_tokens(std::string_view user) {
  require_write("delete_user_tokens");
  pg::Params p;
  p.text(user);
  run("DELETE FROM tokens WHERE \"user\" = $1", p, "delete_user_tokens");
  notice_.users.emplace_back(user);
}

void PostgresStoreTxn::trim_user_tokens(std::string_view user, std::int64_t keep, std::string_view newest) {
  require_write("trim_user_tokens");
  pg::Params p;
  p.text(user).int64(keep).text(newest);
  const pg::Result r = run("DELETE FROM tokens WHERE \"user\" = $1 AND hash NOT IN (SELECT hash FROM tokens WHERE \"user\" = $1 "
      "ORDER BY hash = $3 DESC, expires_at DESC LIMIT $2)",
      p, "trim_user_tokens");
  if (r.affected() > 0) notice_.users.emplace_back(user);
}

// --- results ---

std::optional<StoredResult> PostgresStoreTxn::find_result(std::string_view change_id) {
  pg::Params p;
  p.text(change_id);
  pg::Result r = run("SELECT sender, result FROM results WHERE change_id = $1", p, "find_result");
  if (r.rows() == 0) return std::nullopt;
  return StoredResult{r.text(0, 0), parse_stored(r.text(0, 1), "change result")};
}

std::int64_t PostgresStoreTxn::count_expiring_results(std::string_view sender) {
  pg::Params p;
  p.text(sender);
  return run("SELECT count(*) FROM results WHERE sender = $1 AND expires_at > 0", p, "count_expiring_results")
      .int64(0, 0);
}

std::int64_t PostgresStoreTxn::count_records() {
  return run("SELECT count(*) FROM records", pg::Params(), "count_records").int64(0, 0);
}

bool PostgresStoreTxn::revisions_guarded() {
  // Enabled for every session ('O' origin, 'A' always; 'R' fires only under
  // session_replication_role = replica: attacker review 15, A15-8), with no
  // WHEN, of the kind the layout made (tgtype: 1 row, 2 before, 8 delete, 16
  // update, 32 truncate), and calling the function as the layout wrote it: one
  // kept by name but rewritten guards nothing (attacker review 14, A14-2).
  return run("SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
             "WHERE t.tgrelid = 'revisions'::regclass AND t.tgenabled IN ('O', 'A') AND t.tgqual IS NULL "
             "AND p.proname = 'kehu_revisions_append_only' "
             "AND btrim(regexp_replace(p.prosrc, '\\s+', ' ', 'g')) = "
             "'BEGIN RAISE EXCEPTION ''revisions are append-only''; END' "
             "AND ((t.tgname = 'revisions_no_update' AND t.tgtype = 19) "
             "OR (t.tgname = 'revisions_no_delete' AND t.tgtype = 11) "
             "OR (t.tgname = 'revisions_no_truncate' AND t.tgtype = 34))",
             pg::Params(), "revisions_guarded")
             .int64(0, 0) == 3;
}

void PostgresStoreTxn::delete_expired_results(std::int64_t now) {
  require_write("delete_expired_results");
  pg::Params p;
  p.int64(now);
  run("DELETE FROM results WHERE expires_at > 0 AND expires_at <= $1", p, "delete_expired_results");
}

void PostgresStoreTxn::put_result(std::string_view change_id, std::string_view sender,
                                  std::int64_t expires_at, const json& result) {
  require_write("put_result");
  pg::Params p;
  p.text(change_id).text(result.dump(-1, ' ', false, json::error_handler_t::replace)).text(sender).int64(expires_at);
  pg::Result r = run(
      "INSERT INTO results(change_id, result, sender, expires_at) VALUES($1, $2, $3, $4) "
      "ON CONFLICT (change_id) DO NOTHING",
      p, "put_result");
  if (r.affected() == 0) {
    throw Error(Errc::storage,
                "put_result: a result for change " + std::string(change_id) + " exists already");
  }
}

// --- records ---

sync::RecordState PostgresStoreTxn::load_record(std::string_view id) {
  sync::RecordState s;
  s.id = std::string(id);
  pg::Params p;
  p.text(id);
  pg::Result r = run("SELECT collection, parent, code, rev, state FROM records WHERE id = $1", p,
                     "load_record");
  if (r.rows() == 0) return s;
  s.collection = r.text(0, 0);
  s.parent = r.text(0, 1);
  s.code = r.text(0, 2);
  s.rev = r.int64(0, 3);
  s.fields = decode_field_versions(parse_stored(r.text(0, 4), "record state"), &s.merged_into, &s.merged_rev);
  return s;
}

std::optional<RecordView> PostgresStoreTxn::find_record_text(std::string_view id) {
  pg::Params p;
  p.text(id);
  pg::Result r =
      run("SELECT collection, parent, code, rev, deleted, fields FROM records WHERE id = $1", p,
          "find_record_view");
  if (r.rows() == 0) return std::nullopt;
  RecordView v;
  v.id = std::string(id);
  v.collection = r.text(0, 0);
  v.parent = r.text(0, 1);
  v.code = r.text(0, 2);
  v.rev = r.int64(0, 3);
  v.deleted = r.boolean(0, 4);
  v.fields_text = r.text(0, 5);
  v.old_codes = code_aliases(id);
  return v;
}

std::optional<RecordView> PostgresStoreTxn::find_record_view(std::string_view id) {
  auto v = find_record_text(id);
  if (v) v->fields = parse_stored(std::exchange(v->fields_text, {}), "record fields");
  return v;
}

void PostgresStoreTxn::save_record(const sync::RecordState& s, std::int64_t seq) {
  require_write("save_record");
  if (!s.code.empty()) {
    pg::Params p;
    p.text(s.code).text(s.id);
    pg::Result other = run("SELECT id FROM records WHERE code = $1 AND id <> $2", p, "save_record");
    if (other.rows() > 0) {
      throw Error(Errc::storage,
                  "save_record: code " + s.code + " is held by record " + other.text(0, 0));
    }
  }
  pg::Params p;
  p.text(s.id)
      .text(s.collection)
      .text(s.parent)
      .text_or_null(s.code)
      .int64(s.rev)
      .boolean(s.deleted());
  p.text(encode_field_versions(s.fields, s.merged_into, s.merged_rev)).text(s.values().dump()).int64(seq);
  // An upsert keeps the row's pos, so record_ids() stays in insertion order.
  run("INSERT INTO records(id, collection, parent, code, rev, deleted, state, fields, updated_seq) "
      "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET "
      "collection = EXCLUDED.collection, parent = EXCLUDED.parent, code = EXCLUDED.code, rev = "
      "EXCLUDED.rev, "
      "deleted = EXCLUDED.deleted, state = EXCLUDED.state, fields = EXCLUDED.fields, "
      "updated_seq = EXCLUDED.updated_seq",
      p, "save_record");
}

// --- revisions ---

// Both are read once per transaction and then follow append_revision: nobody
// else appends meanwhile (a writer holds the lock; a reader has its snapshot),
// and each saved query is a round trip per pushed change.
std::int64_t PostgresStoreTxn::next_seq() {
  if (!next_seq_)
    next_seq_ = run("SELECT COALESCE(MAX(seq), 0) + 1 FROM revisions", {}, "next_seq").int64(0, 0);
  return *next_seq_;
}

std::string PostgresStoreTxn::last_hash() {
  if (!last_hash_) {
    pg::Result r = run("SELECT hash FROM revisions ORDER BY seq DESC LIMIT 1", {}, "last_hash");
    last_hash_ = r.rows() == 0 ? std::string(64, '0') : r.text(0, 0);
  }
  return *last_hash_;
}

void PostgresStoreTxn::append_revision(const StoredRevision& rev) {
  require_write("append_revision");
  pg::Params p;
  p.int64(rev.seq).text(rev.record_id).int64(rev.rev).text(rev.change_id);
  p.text(rev.body).text(rev.prev_hash).text(rev.hash);
  run("INSERT INTO revisions(" KEHU_REVISION_COLUMNS ") VALUES($1, $2, $3, $4, $5, $6, $7)", p,
      "append_revision");
  notice_.revisions = true;
  next_seq_ = rev.seq + 1;
  last_hash_ = rev.hash;
}

std::vector<StoredRevision> PostgresStoreTxn::revisions_of(std::string_view record_id) {
  pg::Params p;
  p.text(record_id);
  return read_revisions(run("SELECT " KEHU_REVISION_COLUMNS
                            " FROM revisions WHERE record_id = $1 ORDER BY seq DESC",
                            p, "revisions_of"));
}

std::vector<StoredRevision> PostgresStoreTxn::revisions_before(std::string_view record_id, std::int64_t before,
                                                               std::int64_t limit) {
  pg::Params p;
  p.text(record_id).int64(before).int64(limit);
  return read_revisions(run("SELECT " KEHU_REVISION_COLUMNS
                            " FROM revisions WHERE record_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                            p, "revisions_before"));
}

std::vector<StoredRevision> PostgresStoreTxn::customer_revisions_before(std::string_view customer_id,
                                                                        std::int64_t before, std::int64_t limit) {
  pg::Params p;
  p.text(customer_id).int64(before).int64(limit);
  return read_revisions(run("SELECT " KEHU_REVISION_COLUMNS
                            " FROM revisions WHERE record_id IN (SELECT id FROM records WHERE id = $1"
                            " UNION ALL SELECT id FROM records WHERE parent = $1 AND collection <> 'customers')"
                            " AND seq < $2 ORDER BY seq DESC LIMIT $3",
                            p, "customer_revisions_before"));
}

std::optional<StoredRevision> PostgresStoreTxn::revision_at(std::string_view record_id, std::int64_t rev) {
  pg::Params p;
  p.text(record_id).int64(rev);
  std::vector<StoredRevision> found = read_revisions(run("SELECT " KEHU_REVISION_COLUMNS
                                                         " FROM revisions WHERE record_id = $1 AND rev = $2"
                                                         " ORDER BY seq LIMIT 1",
                                                         p, "revision_at"));
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<StoredRevision> PostgresStoreTxn::revisions_since(std::int64_t after,
                                                              std::int64_t limit) {
  pg::Params p;
  p.int64(after).int64(limit);
  return read_revisions(run("SELECT " KEHU_REVISION_COLUMNS
                            " FROM revisions WHERE seq > $1 ORDER BY seq LIMIT $2",
                            p, "revisions_since"));
}

void PostgresStoreTxn::for_each_revision(const std::function<bool(const StoredRevision&)>& fn) {
  // Pages by seq: memory stays constant, and fn may use this transaction between
  // rows. A read transaction's snapshot (or a writer's lock) keeps the pages
  // consistent with each other.
  std::int64_t after = 0;
  for (;;) {
    std::vector<StoredRevision> page = revisions_since(after, kRevisionPage);
    for (const auto& rev : page) {
      if (!fn(rev)) return;
    }
    if (static_cast<std::int64_t>(page.size()) < kRevisionPage) return;
    after = page.back().seq;
  }
}

// --- customer codes ---

std::optional<std::string> PostgresStoreTxn::code_holder(std::string_view code) {
  pg::Params p;
  p.text(code);
  pg::Result r = run("SELECT id FROM records WHERE code = $1", p, "code_holder");
  if (r.rows() > 0) return r.text(0, 0);
  pg::Result a = run("SELECT record_id FROM code_aliases WHERE alias = $1", p, "code_holder");
  if (a.rows() > 0) return a.text(0, 0);
  return std::nullopt;
}

void PostgresStoreTxn::add_code_alias(std::string_view alias, std::string_view record_id) {
  require_write("add_code_alias");
  pg::Params p;
  p.text(alias).text(record_id);
  pg::Result r = run(
      "INSERT INTO code_aliases(alias, record_id) VALUES($1, $2) ON CONFLICT (alias) DO NOTHING", p,
      "add_code_alias");
  if (r.affected() == 0)
    throw Error(Errc::storage, "add_code_alias: alias " + std::string(alias) + " is held");
}

std::vector<std::string> PostgresStoreTxn::code_aliases(std::string_view record_id) {
  pg::Params p;
  p.text(record_id);
  return column("SELECT alias FROM code_aliases WHERE record_id = $1 ORDER BY pos", p,
                "code_aliases");
}

std::int64_t PostgresStoreTxn::reserve_serials(std::string_view month, std::int64_t count) {
  require_write("reserve_serials");
  if (count < 1) throw Error(Errc::internal, "reserve_serials needs a positive count");
  pg::Params p;
  p.text(month).int64(count);
  // One statement: a new month starts at 1, so it hands out 1..count.
  return run("INSERT INTO code_serials(month, next) VALUES($1, 1 + $2::bigint) "
             "ON CONFLICT (month) DO UPDATE SET next = code_serials.next + $2::bigint "
             "RETURNING next - $2::bigint",
             p, "reserve_serials")
      .int64(0, 0);
}

void PostgresStoreTxn::advance_serials_past(std::string_view month, std::int64_t serial) {
  require_write("advance_serials_past");
  pg::Params p;
  p.text(month).int64(serial);
  run("INSERT INTO code_serials(month, next) VALUES($1, GREATEST(1, $2::bigint + 1)) "
      "ON CONFLICT (month) DO UPDATE SET next = GREATEST(code_serials.next, EXCLUDED.next)",
      p, "advance_serials_past");
}

void PostgresStoreTxn::add_lease(std::string_view month, std::int64_t first, std::int64_t last,
                                 std::string_view holder, std::string_view device) {
  require_write("add_lease");
  pg::Params p;
  p.text(month).int64(first).int64(last).text(holder).text(device);
  run("INSERT INTO code_leases(month, first, last, holder, device) VALUES($1, $2, $3, $4, $5)", p,
      "add_lease");
}

bool PostgresStoreTxn::holds_lease(std::string_view month, std::int64_t serial, std::string_view holder,
                                   std::string_view device) {
  pg::Params p;
  p.text(holder).text(device).text(month).int64(serial);
  return run("SELECT 1 FROM code_leases WHERE holder = $1 AND device = $2 AND month = $3 "
             "AND first <= $4 AND last >= $4 LIMIT 1",
             p, "holds_lease")
             .rows() > 0;
}

std::int64_t PostgresStoreTxn::leased_serials(std::string_view month, std::string_view holder) {
  pg::Params p;
  p.text(holder).text(month);
  return run("SELECT COALESCE(SUM(last - first + 1), 0)::bigint FROM code_leases WHERE holder = $1 AND month = $2",
             p, "leased_serials")
      .int64(0, 0);
}

// --- children ---

std::vector<std::string> PostgresStoreTxn::record_ids(std::string_view collection) {
  pg::Params p;
  p.text(collection);
  return column("SELECT id FROM records WHERE collection = $1 ORDER BY pos", p, "record_ids");
}

std::vector<std::string> PostgresStoreTxn::child_ids(std::string_view parent_id) {
  pg::Params p;
  p.text(parent_id);
  return column("SELECT id FROM records WHERE parent = $1 AND collection <> 'customers' ORDER BY pos", p, "child_ids");
}

std::vector<StoreTxn::ChildRef> PostgresStoreTxn::children_after(std::string_view parent_id, std::int64_t after) {
  pg::Params p;
  p.text(parent_id).int64(after);
  pg::Result r = run("SELECT id, pos FROM records WHERE parent = $1 AND collection <> 'customers' AND pos > $2 "
                     "ORDER BY pos",
                     p, "children_after");
  std::vector<ChildRef> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.int64(i, 1)});
  return out;
}

// --- the scope index ---

void PostgresStoreTxn::add_scope_move(std::string_view customer_id, std::int64_t seq, const std::string& values) {
  require_write("add_scope_move");
  pg::Params p;
  p.text(customer_id).int64(seq).text(values);
  run("INSERT INTO scope_moves(customer_id, seq, vals) VALUES($1, $2, $3)", p, "add_scope_move");
}

std::optional<std::string> PostgresStoreTxn::scope_at(std::string_view customer_id, std::int64_t seq) {
  pg::Params p;
  p.text(customer_id).int64(seq);
  pg::Result r = run("SELECT vals FROM scope_moves WHERE customer_id = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1",
                     p, "scope_at");
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, 0);
}

std::vector<StoreTxn::ScopeMove> PostgresStoreTxn::scope_moves_after(std::string_view customer_id,
                                                                     std::int64_t after, std::int64_t limit) {
  pg::Params p;
  p.text(customer_id).int64(after).int64(limit);
  pg::Result r = run("SELECT seq, vals FROM scope_moves WHERE customer_id = $1 AND seq > $2 ORDER BY seq DESC LIMIT $3",
                     p, "scope_moves_after");
  std::vector<ScopeMove> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.int64(i, 0), r.text(i, 1)});
  return out;
}

// --- settings ---

std::optional<json> PostgresStoreTxn::get_setting(std::string_view key) {
  pg::Params p;
  p.text(key);
  pg::Result r = run("SELECT value FROM settings WHERE key = $1", p, "get_setting");
  if (r.rows() == 0) return std::nullopt;
  return parse_stored(r.text(0, 0), "setting");
}

void PostgresStoreTxn::put_setting(std::string_view key, const json& value) {
  require_write("put_setting");
  pg::Params p;
  p.text(key).text(value.dump());
  run("INSERT INTO settings(key, value) VALUES($1, $2) ON CONFLICT (key) DO UPDATE SET value = "
      "EXCLUDED.value",
      p, "put_setting");
  notice_.everyone = true;
}

// --- claims ---

void PostgresStoreTxn::add_claim(std::string_view user, std::string_view day,
                                 std::string_view record_id) {
  require_write("add_claim");
  pg::Params p;
  p.text(user).text(day).text(record_id);
  run("INSERT INTO claims(\"user\", day, record_id) VALUES($1, $2, $3)", p, "add_claim");
}

std::int64_t PostgresStoreTxn::count_claims(std::string_view user, std::string_view day) {
  pg::Params p;
  p.text(user).text(day);
  return run("SELECT count(*) FROM claims WHERE \"user\" = $1 AND day = $2", p, "count_claims")
      .int64(0, 0);
}

void PostgresStoreTxn::add_release(std::string_view user, std::string_view day,
                                   std::string_view record_id) {
  require_write("add_release");
  pg::Params p;
  p.text(user).text(day).text(record_id);
  run("INSERT INTO releases(\"user\", day, record_id) VALUES($1, $2, $3)", p, "add_release");
}

std::int64_t PostgresStoreTxn::count_releases(std::string_view user, std::string_view day) {
  pg::Params p;
  p.text(user).text(day);
  return run("SELECT count(*) FROM releases WHERE \"user\" = $1 AND day = $2", p, "count_releases")
      .int64(0, 0);
}

// --- change requests ---

std::int64_t PostgresStoreTxn::add_request(const ChangeRequest& c) {
  require_write("add_request");
  pg::Params p;
  p.text(c.change_id).text(c.record_id).text(c.collection).text(c.requester).text(c.device);
  p.int64(c.base_rev).text(c.fields.dump()).text(c.status).text(c.created_at);
  p.text(resolves_to_json(c.resolves).dump()).text(c.cause);
  // max + 1 under the writer lock: no gaps, as SQLite's INTEGER PRIMARY KEY.
  pg::Result r =
      run("INSERT INTO change_requests(id, change_id, record_id, collection, requester, device, "
          "base_rev, fields, "
          "status, created_at, resolves, cause) VALUES((SELECT COALESCE(MAX(id), 0) + 1 FROM change_requests), "
          "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (change_id) DO NOTHING RETURNING id",
          p, "add_request");
  if (r.rows() == 0) {
    throw Error(Errc::storage,
                "add_request: a request for change " + c.change_id + " exists already");
  }
  return r.int64(0, 0);
}

std::optional<ChangeRequest> PostgresStoreTxn::find_request(std::int64_t id) {
  pg::Params p;
  p.int64(id);
  pg::Result r =
      run("SELECT " KEHU_REQUEST_COLUMNS " FROM change_requests WHERE id = $1", p, "find_request");
  if (r.rows() == 0) return std::nullopt;
  return read_request(r, 0);
}

std::int64_t PostgresStoreTxn::count_pending_requests(std::string_view requester) {
  pg::Params p;
  p.text(requester);
  return run("SELECT count(*) FROM change_requests WHERE status = 'pending' AND requester = $1", p,
             "count_pending_requests")
      .int64(0, 0);
}

std::int64_t PostgresStoreTxn::count_requests_since(std::string_view requester, std::string_view since) {
  pg::Params p;
  p.text(requester).text(since);
  return run("SELECT count(*) FROM change_requests WHERE requester = $1 AND created_at >= $2", p,
             "count_requests_since")
      .int64(0, 0);
}

std::vector<ChangeRequest> PostgresStoreTxn::list_requests(std::string_view status, std::int64_t after,
                                                           std::int64_t limit) {
  pg::Params p;
  p.text(status).int64(after).int64(limit);
  pg::Result r = run("SELECT " KEHU_REQUEST_COLUMNS
                     " FROM change_requests WHERE ($1::text = '' OR status = $1) AND id > $2 "
                     "ORDER BY id LIMIT $3",
                     p, "list_requests");
  std::vector<ChangeRequest> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_request(r, i));
  return out;
}

std::vector<ChangeRequest> PostgresStoreTxn::pending_requests(std::string_view requester,
                                                              std::string_view record_id) {
  pg::Params p;
  p.text(requester).text(record_id);
  pg::Result r = run("SELECT " KEHU_REQUEST_COLUMNS
                     " FROM change_requests WHERE status = 'pending' AND requester = $1 AND record_id = $2 "
                     "ORDER BY id",
                     p, "pending_requests");
  std::vector<ChangeRequest> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_request(r, i));
  return out;
}

void PostgresStoreTxn::update_request(const ChangeRequest& c) {
  require_write("update_request");
  pg::Params p;
  p.text(c.status).text(c.decided_by).text(c.decided_at).text(c.reason).int64(c.seq).int64(c.id);
  p.text(c.fields.dump()).text(resolves_to_json(c.resolves).dump());
  pg::Result r =
      run("UPDATE change_requests SET status = $1, decided_by = $2, decided_at = $3, reason = $4, "
          "seq = $5, fields = $7, resolves = $8 "
          "WHERE id = $6",
          p, "update_request");
  if (r.affected() == 0) throw Error(Errc::not_found, tr("no change request #" + std::to_string(c.id),
                                                              "找不到修改申请 #" + std::to_string(c.id)));
}

}  // namespace kehu::server

#undef KEHU_USER_COLUMNS
#undef KEHU_REVISION_COLUMNS
#undef KEHU_REQUEST_COLUMNS
