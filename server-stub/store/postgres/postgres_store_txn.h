// PostgresStore's transaction: the StoreTxn operations as SQL. Only
// postgres_store.cc creates it. See store.h for the contract of each call,
// postgres_store.cc for the tables and postgres_store.h for the isolation.
//
// Constraint failures the contract names (a taken user name, change_id, alias,
// code or token) are detected with ON CONFLICT DO NOTHING or a look-up under the
// writer lock, not by letting the statement fail: a failed statement would
// abort the whole PostgreSQL transaction, where SQLite undoes only the
// statement. They throw the same Errc as the SQLite store.
#pragma once

#include <optional>
#include <string>

#include "postgres_pool.h"
#include "store.h"

namespace kehu::server {

class PostgresStore;

class PostgresStoreTxn final : public StoreTxn {
 public:
  // Runs BEGIN on `c`: for write, READ COMMITTED plus the writer lock (waits up
  // to lock_timeout, then PgError with SQLSTATE 55P03); for read, REPEATABLE
  // READ, READ ONLY. Throws PgError.
  static void start(pg::Connection& c, TxnMode mode);
  // Rolls back whatever `lease` has open, or closes it if that fails, so the
  // pool never hands out a connection inside a transaction.
  static void abandon(pg::Lease& lease) noexcept;

  // REQUIRES: start(*lease, mode) succeeded.
  // `store` is told of the commit (Store::tell), which NOTIFYs the other processes.
  PostgresStoreTxn(const PostgresStore& store, pg::Lease lease, TxnMode mode)
      : store_(store), lease_(std::move(lease)), mode_(mode) {}
  // Rolls back unless committed, and gives the connection back.
  ~PostgresStoreTxn() override;

  void commit() override;

  void add_user(const User& user) override;
  std::optional<User> find_user(std::string_view name) override;
  void update_user(const User& user) override;
  std::vector<User> list_users() override;

  void put_token(const Token& token) override;
  std::optional<Token> find_token(std::string_view hash) override;
  void delete_token(std::string_view hash) override;
  void delete_expired_tokens(std::int64_t now) override;
  void delete_user_tokens(std::string_view user) override;
  void trim_user_tokens(std::string_view user, std::int64_t keep, std::string_view newest) override;

  std::optional<StoredResult> find_result(std::string_view change_id) override;
  std::int64_t count_expiring_results(std::string_view sender) override;
  std::int64_t count_records() override;
  bool revisions_guarded() override;
  void put_result(std::string_view change_id, std::string_view sender, std::int64_t expires_at,
                  const json& result) override;
  void delete_expired_results(std::int64_t now) override;

  sync::RecordState load_record(std::string_view id) override;
  std::optional<RecordView> find_record_view(std::string_view id) override;
  std::optional<RecordView> find_record_text(std::string_view id) override;
  void save_record(const sync::RecordState& state, std::int64_t seq) override;

  std::int64_t next_seq() override;
  std::string last_hash() override;
  void append_revision(const StoredRevision& rev) override;
  std::vector<StoredRevision> revisions_of(std::string_view record_id) override;
  std::optional<StoredRevision> revision_at(std::string_view record_id, std::int64_t rev) override;
  std::vector<StoredRevision> revisions_before(std::string_view record_id, std::int64_t before,
                                               std::int64_t limit) override;
  std::vector<StoredRevision> customer_revisions_before(std::string_view customer_id, std::int64_t before,
                                                          std::int64_t limit) override;
  std::vector<StoredRevision> revisions_since(std::int64_t after, std::int64_t limit) override;
  void for_each_revision(const std::function<bool(const StoredRevision&)>& fn) override;

  std::optional<std::string> code_holder(std::string_view code) override;
  void add_code_alias(std::string_view alias, std::string_view record_id) override;
  std::vector<std::string> code_aliases(std::string_view record_id) override;
  std::int64_t reserve_serials(std::string_view month, std::int64_t count) override;
  void advance_serials_past(std::string_view month, std::int64_t serial) override;
  void add_lease(std::string_view month, std::int64_t first, std::int64_t last, std::string_view holder,
                 std::string_view device) override;
  bool holds_lease(std::string_view month, std::int64_t serial, std::string_view holder,
                   std::string_view device) override;
  std::int64_t leased_serials(std::string_view month, std::string_view holder) override;

  std::vector<std::string> record_ids(std::string_view collection) override;
  std::vector<std::string> child_ids(std::string_view parent_id) override;
  std::vector<ChildRef> children_after(std::string_view parent_id, std::int64_t after) override;

  void add_scope_move(std::string_view customer_id, std::int64_t seq, const std::string& values) override;
  std::optional<std::string> scope_at(std::string_view customer_id, std::int64_t seq) override;
  std::vector<ScopeMove> scope_moves_after(std::string_view customer_id, std::int64_t after,
                                           std::int64_t limit) override;
  std::optional<json> get_setting(std::string_view key) override;
  void put_setting(std::string_view key, const json& value) override;

  void add_claim(std::string_view user, std::string_view day, std::string_view record_id) override;
  std::int64_t count_claims(std::string_view user, std::string_view day) override;
  void add_release(std::string_view user, std::string_view day, std::string_view record_id) override;
  std::int64_t count_releases(std::string_view user, std::string_view day) override;

  std::int64_t add_request(const ChangeRequest& request) override;
  std::optional<ChangeRequest> find_request(std::int64_t id) override;
  std::vector<ChangeRequest> list_requests(std::string_view status, std::int64_t after,
                                           std::int64_t limit) override;
  std::int64_t count_pending_requests(std::string_view requester) override;
  std::int64_t count_requests_since(std::string_view requester, std::string_view since) override;
  std::vector<ChangeRequest> pending_requests(std::string_view requester, std::string_view record_id) override;
  void update_request(const ChangeRequest& request) override;

 private:
  // Throws Error(internal) unless this is a write transaction.
  void require_write(const char* what) const;
  // Runs a prepared statement on this transaction's connection.
  pg::Result run(const char* sql, const pg::Params& params, const char* what);
  std::vector<std::string> column(const char* sql, const pg::Params& params, const char* what);

  const PostgresStore& store_;
  pg::Lease lease_;
  TxnMode mode_;
  bool open_ = true;
  // next_seq() and last_hash() once read (see the .cc).
  std::optional<std::int64_t> next_seq_;
  std::optional<std::string> last_hash_;
};

}  // namespace kehu::server
