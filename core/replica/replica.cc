// Opening, creating and maintaining the encrypted replica file.
#include "kehu/replica.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "kehu/custom_fields.h"
#include "kehu/error.h"
#include "replica_impl.h"

namespace kehu {
namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// WAL lets a backup or a second `kehu` process read while one writes. An 8 MiB
// page cache (SQLite's default is 2 MiB) keeps the random-UUID indexes of a
// large replica in memory instead of re-reading and re-decrypting their pages
// on every write (bench B1, B3, B4); B8 keeps the client under 64 MB. A
// checkpoint (copy the WAL into the file, fsync) every 10,000 pages (~40 MB of
// WAL) instead of SQLite's 1,000 takes it out of all but a rare edit's commit
// (bench B2: p99 17 ms -> under 5 ms); closing the last connection checkpoints
// the rest, so a `kehu` command still leaves no WAL behind.
void configure(db::Database& db) {
  db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
      "PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 10000;");
}

std::string default_author() {
  for (const char* var : {"KEHU_USER", "USER", "LOGNAME"}) {
    const char* v = std::getenv(var);
    if (v && *v) return v;
  }
  return "local";
}

}  // namespace

Replica::Replica(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Replica::~Replica() = default;

std::unique_ptr<Replica> Replica::create(const std::string& path, std::string_view passphrase) {
  if (passphrase.empty()) throw Error(Errc::usage, tr("the passphrase must not be empty", "口令不能为空"));
  if (struct stat st{}; ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(Errc::usage, tr(path + " is a folder, not a replica file: name a file in it (e.g. " + path +
                                    "/replica.db)",
                                path + " 是一个文件夹，不是本地副本文件：请给出其中的一个文件名（如 " + path +
                                    "/replica.db）"));
  }
  if (file_exists(path)) {
    throw Error(Errc::exists, tr("replica " + path + " already exists; use it, or remove it first",
                                 "本地副本 " + path + " 已经存在；请直接使用，或先删除它"));
  }
  // SQLite says only "unable to open database file" (walkthrough 10, R10-6).
  if (const auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    const std::string folder = path.substr(0, slash);
    if (struct stat st{}; ::stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      throw Error(Errc::usage, tr("folder " + folder + " does not exist: create it first, or choose another place "
                                      "for the replica",
                                  "文件夹 " + folder + " 不存在：请先创建它，或把本地副本放在别处"));
    }
  }
  try {
    db::Database db(path, /*create=*/true);
    db.key(passphrase);
    configure(db);
    migrate(db);
    auto impl = std::make_unique<Impl>(std::move(db), std::string(passphrase));
    impl->device_id = new_random_uuid();  // its prefix labels the device: random, not time
    impl->in_tx([&] {
      impl->set_meta("device_id", impl->device_id);
      impl->set_meta("author", default_author());
      impl->set_meta("created_at", now_iso8601());
    });
    return std::unique_ptr<Replica>(new Replica(std::move(impl)));
  } catch (...) {
    // Never leave a half-made replica behind: the next `kehu init` must work.
    ::unlink(path.c_str());
    ::unlink((path + "-wal").c_str());
    ::unlink((path + "-shm").c_str());
    throw;
  }
}

std::unique_ptr<Replica> Replica::open(const std::string& path, std::string_view passphrase) {
  if (!file_exists(path)) {
    throw Error(Errc::not_found, tr("no replica at " + path + " (run `kehu init` first)",
                                    path + " 没有本地副本（请先运行 `kehu init`）"));
  }
  db::Database db(path, /*create=*/false);
  db.key(passphrase);  // throws wrong_passphrase before anything is written
  configure(db);
  migrate(db);
  auto impl = std::make_unique<Impl>(std::move(db), std::string(passphrase));
  impl->device_id = impl->meta("device_id");
  std::string hlc = impl->meta("hlc");
  impl->clock = HybridClock(hlc.empty() ? 0 : std::stoll(hlc));
  return std::unique_ptr<Replica>(new Replica(std::move(impl)));
}

const std::string& Replica::path() const { return impl_->db.path(); }
const Schema& Replica::schema() const { return impl_->schema(); }

const Schema& Replica::Impl::schema() {
  if (schema_stale || schemas.empty()) {
    const std::string list = meta(kCustomFieldsMeta);
    json parsed = list.empty() ? json() : json::parse(list, nullptr, /*allow_exceptions=*/false);
    schemas.push_back(schema_with_custom_fields(parsed));
    schema_stale = false;
  }
  return *schemas.back();
}

int Replica::schema_version() const { return read_schema_version(impl_->db); }
std::string Replica::device_id() const { return impl_->device_id; }

std::string Replica::author() const {
  std::string user = impl_->meta("user");
  return user.empty() ? impl_->meta("author") : user;
}

std::string Replica::meta(std::string_view key) const { return impl_->meta(key); }
void Replica::set_meta(std::string_view key, std::string_view value) {
  impl_->in_tx([&] { impl_->set_meta(key, value); });
}

std::string Replica::Impl::meta(std::string_view key) {
  auto& st = db.cached("SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  std::string value = st.step() ? st.text(0) : std::string();
  // A statement left on a row keeps a read transaction open, which makes later
  // checkpoints, journal-mode changes (rekey) and backups fail with "locked".
  st.reset();
  return value;
}

void Replica::Impl::set_meta(std::string_view key, std::string_view value) {
  db.cached("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)").bind(1, key).bind(2, value).run();
  if (key == kCustomFieldsMeta) schema_stale = true;
}

void Replica::batch(const std::function<void()>& fn) { impl_->in_tx(fn); }

void Replica::checkpoint() { impl_->db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

void Replica::backup(const std::string& dest_path) {
  // ATTACH opens files with the main connection's flags, which lack
  // SQLITE_OPEN_CREATE for an opened (not created) replica, so the destination is
  // made here first: empty (SQLite reads a 0-byte file as an empty database),
  // owner-only, and exclusively, so an existing file is never overwritten.
  int fd = ::open(dest_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw Error(Errc::exists, dest_path + tr(" already exists", " 已经存在"));
    const std::string why = std::strerror(errno);
    throw Error(Errc::io, tr("cannot create " + dest_path + ": " + why, "无法创建 " + dest_path + "：" + why));
  }
  ::close(fd);
  auto& db = impl_->db;
  // The copy gets the same cipher settings and key. sqlcipher_export() runs inside
  // one read transaction, so the copy is consistent even while others write.
  try {
    db.exec(("PRAGMA cipher_default_page_size = 4096; PRAGMA cipher_default_kdf_iter = " +
             std::to_string(db::kReplicaKdfIterations) + ";")
                .c_str());
    db.prepare("ATTACH DATABASE ? AS backup KEY ?")
        .bind(1, dest_path)
        .bind(2, impl_->passphrase)
        .run();
    db.exec("BEGIN; SELECT sqlcipher_export('backup'); COMMIT;");
    db.exec(("PRAGMA backup.user_version = " + std::to_string(schema_version())).c_str());
    db.exec("DETACH DATABASE backup");
  } catch (...) {
    // Best effort: whichever step failed, leave no transaction, attachment or
    // partial copy behind, and report the original error.
    for (const char* undo : {"ROLLBACK", "DETACH DATABASE backup"}) {
      try {
        db.exec(undo);
      } catch (...) {
      }
    }
    ::unlink(dest_path.c_str());
    throw;
  }
}

void Replica::rekey(std::string_view new_passphrase) {
  if (new_passphrase.empty()) throw Error(Errc::usage, tr("the new passphrase must not be empty", "新口令不能为空"));
  auto& db = impl_->db;
  // SQLCipher rekeys page by page through the rollback journal, not the WAL, and
  // only the file's single connection may leave WAL mode: while another process
  // has the replica open this fails, before anything is rewritten.
  std::string mode, why = tr("journal mode stayed WAL", "日志模式仍为 WAL");
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    auto st = db.prepare("PRAGMA journal_mode = DELETE");
    if (st.step()) mode = st.text(0);
  } catch (const Error& e) {
    if (e.code() != Errc::storage) throw;
    why = e.what();
  }
  if (mode != "delete") {
    throw Error(Errc::storage, tr("cannot change the passphrase of " + path() + " while another program has it open (" +
                                      why + "); close it and try again",
                                  "无法更换 " + path() + " 的口令：另一个程序正打开着它（" + why + "）；请关闭后再试"));
  }
  std::string pragma = "PRAGMA rekey = '";
  for (char c : new_passphrase) pragma += (c == '\'') ? std::string("''") : std::string(1, c);
  pragma += "'";
  db.exec(pragma.c_str());
  db.exec("PRAGMA journal_mode = WAL");
  impl_->passphrase = std::string(new_passphrase);
}

ReplicaStatus Replica::status() const {
  auto& d = impl_->db;
  ReplicaStatus s;
  s.path = path();
  s.schema_version = schema_version();
  s.device_id = device_id();
  s.author = author();
  s.server = meta("server");
  s.user = meta("user");
  s.last_sync = meta("last_sync");
  auto count = [&](const char* sql) {
    auto& st = d.cached(sql);
    st.step();
    std::int64_t n = st.int64(0);
    st.reset();
    return n;
  };
  s.pending = count("SELECT count(*) FROM changes WHERE state = 'pending'");
  s.rejected = count("SELECT count(*) FROM changes WHERE state = 'rejected'");
  s.awaiting = count("SELECT count(*) FROM changes WHERE state = 'awaiting'");
  s.conflicts = count("SELECT count(*) FROM conflicts WHERE resolved = 0");
  s.customers = count("SELECT count(*) FROM records WHERE collection = 'customers' AND deleted = 0");
  s.deleted_customers =
      count("SELECT count(*) FROM records WHERE collection = 'customers' AND deleted = 1");
  return s;
}

}  // namespace kehu
