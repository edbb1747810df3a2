// kehu-server: the team's sync server and its admin commands.
//
//   kehu-server init --data DIR
//   kehu-server user add NAME --role admin|manager|sales|auditor --data DIR
//   kehu-server user passwd NAME --data DIR
//   kehu-server user role NAME ROLE --data DIR
//   kehu-server user disable|enable NAME --data DIR
//   kehu-server user list --data DIR
//   kehu-server user set-regions NAME REGION[,REGION...] --data DIR
//   kehu-server customer reassign CODE USER --data DIR [--reason TEXT]
//   kehu-server pool set-cap N --data DIR
//   kehu-server pool recycle --days N --data DIR [--as-of DATE] [--dry-run]
//   kehu-server schema protect COLLECTION FIELD[,FIELD...] --data DIR
//   kehu-server schema show --data DIR
//   kehu-server schema add-field COLLECTION KEY --type TYPE --label 标签 [--label-en L]
//               [--values a,b] [--required] [--restricted] --data DIR
//   kehu-server serve --data DIR [--listen HOST:PORT] [--tls-cert PEM --tls-key PEM] [--reuse-port]
//   kehu-server audit verify --data DIR
//   kehu-server audit export --data DIR --since DATE [--until DATE] [--force] FILE.csv
//   kehu-server backup --data DIR [--force] FILE
//
// Every command but backup takes --store postgresql://... instead of --data DIR:
// a PostgreSQL store that several serve processes may share (postgres_store.h).
//
// Exit codes: 0 ok, 2 usage or validation error (the message names the
// problem), 1 anything else. The store is DIR/kehu-server.db.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "audit_export.h"
#include "chain_verifier.h"
#include "command_line.h"
#include "auth_settings.h"
#include "http_server.h"
#include "kehu/custom_fields.h"
#include "kehu/display_time.h"
#include "kehu/error.h"
#include "kehu/field_type_words.h"
#include "kehu/lang.h"
#include "kehu/record.h"
#include "kehu/schema.h"
#include "kehu/text.h"
#include "password_prompt.h"
#include "schema_service.h"
#include "scope_index.h"
#include "server_config.h"
#include "settings.h"
#include "team_service.h"
#include "postgres_store.h"
#include "sqlite_store.h"
#include "user_admin.h"

namespace kehu::server {
namespace {

// Each command's syntax once, with a note in each language.
struct UsageLine {
  const char* syntax;
  const char* en;
  const char* zh;
};

constexpr UsageLine kUsageLines[] = {
    {"kehu-server init --data DIR", "", ""},
    {"kehu-server user add NAME --role admin|manager|sales|auditor --data DIR", "", ""},
    {"kehu-server user passwd NAME --data DIR", "", ""},
    {"kehu-server user role NAME ROLE --data DIR", "", ""},
    {"kehu-server user disable|enable NAME --data DIR", "", ""},
    {"kehu-server user list --data DIR", "", ""},
    {"kehu-server user set-role NAME ROLE --data DIR        ", "(same as user role)", "（同 user role）"},
    {"kehu-server user set-regions NAME REGION[,REGION...] --data DIR  ",
     "(省 or 省/市, one of the 34 provinces; \"\" clears)", "（省 或 省/市，省须是 34 个省级行政区之一；\"\" 表示清空）"},
    {"kehu-server customer reassign CODE USER --data DIR [--reason TEXT]", "", ""},
    {"kehu-server pool set-cap N --data DIR                 ", "(pool claims per user per day)",
     "（每人每天从公海认领的上限）"},
    {"kehu-server pool recycle --days N --data DIR [--as-of YYYY-MM-DD] [--dry-run]\n"
     "                                    ",
     "(no follow-up for N days before today or --as-of: back to the pool)",
     "（今天或 --as-of 之前 N 天内没有跟进记录的客户退回公海）"},
    {"kehu-server schema protect COLLECTION FIELD[,FIELD...] --data DIR  ", "(\"\" clears)", "（\"\" 表示清空）"},
    {"kehu-server schema show --data DIR", "", ""},
    {"kehu-server schema add-field COLLECTION KEY --type TYPE --label 标签 [--label-en L] [--values a,b]\n"
     "              [--required] [--restricted] --data DIR",
     "", ""},
    {"kehu-server serve --data DIR [--listen HOST:PORT] [--tls-cert PEM --tls-key PEM] [--reuse-port]", "", ""},
    {"kehu-server audit verify --data DIR", "", ""},
    {"kehu-server audit export --data DIR --since DATE [--until DATE] [--force] FILE.csv", "", ""},
    {"kehu-server backup --data DIR [--force] FILE", "", ""},
};

std::string usage() {
  std::string out = tr("usage:\n", "用法：\n");
  for (const UsageLine& l : kUsageLines) {
    const std::string note = tr(l.en, l.zh);
    out += std::string("  ") + l.syntax + (note.empty() ? "" : " " + note) + "\n";
  }
  return out + tr("Every command but backup takes --store postgresql://USER@HOST[:PORT]/DB instead of --data DIR:\n"
                  "a PostgreSQL store that several `serve` processes may share (back it up with pg_dump).\n"
                  "The password for user add/passwd comes from KEHU_PASSWORD, a prompt, or stdin.\n"
                  "audit export: DATE is YYYY-MM-DD (a UTC day, --until included) or YYYY-MM-DDTHH:MM:SSZ;\n"
                  "one CSV row per changed field, UTF-8 with BOM, written to FILE.csv.tmp then renamed.\n",
                  "除 backup 外，所有命令都可以用 --store postgresql://USER@HOST[:PORT]/DB 代替 --data DIR：\n"
                  "即多个 `serve` 进程可共用的 PostgreSQL 存储（请用 pg_dump 备份）。\n"
                  "user add/passwd 的密码来自 KEHU_PASSWORD、提示输入或标准输入。\n"
                  "audit export：DATE 为 YYYY-MM-DD（UTC 日期，包含 --until 当天）或 YYYY-MM-DDTHH:MM:SSZ；\n"
                  "每个修改的字段一行 CSV，UTF-8 带 BOM，先写入 FILE.csv.tmp 再改名。\n");
}

std::string store_path(const CommandLine& cl) {
  return (std::filesystem::path(cl.required("data")) / config::kStoreFileName).string();
}

// --store URL, after checking it is one; nullopt when the command names --data.
std::optional<std::string> store_url(const CommandLine& cl) {
  auto url = cl.option("store");
  if (!url) {
    if (!cl.option("data")) throw Error(Errc::usage, tr("missing --data DIR (SQLite) or --store URL (PostgreSQL)",
                                                        "缺少 --data DIR（SQLite）或 --store URL（PostgreSQL）"));
    return std::nullopt;
  }
  if (cl.option("data")) throw Error(Errc::usage, tr("give either --data DIR or --store URL, not both",
                                                    "--data DIR 和 --store URL 只能给一个，不能同时给出"));
  if (!pg::is_postgres_url(*url)) {
    throw Error(Errc::usage, tr("--store \"" + pg::redact_url(*url) + "\" is not a postgresql:// URL",
                                "--store“" + pg::redact_url(*url) + "”不是 postgresql:// 地址"));
  }
  return url;
}

// The store every command but init and backup works on: --store URL
// (PostgreSQL, shared by any number of server processes) or --data DIR (the
// SQLite file DIR/kehu-server.db, the default).
// The scope index a migration to layout v7 left to fill is filled first
// (scope_index.h): `init` does it, and whatever command comes first after an
// interrupted one.
std::unique_ptr<Store> open_store(const CommandLine& cl) {
  std::unique_ptr<Store> store;
  if (auto url = store_url(cl)) {
    store = std::make_unique<PostgresStore>(*url);
  } else {
    store = std::make_unique<SqliteStore>(store_path(cl));
  }
  build_scope_index(*store);
  return store;
}

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Role role_arg(const std::string& name) {
  auto role = parse_role(name);
  if (!role) throw Error(Errc::usage, tr("unknown role \"" + name + "\": expected admin, manager, sales or auditor",
                                        "未知角色“" + name + "”：应为 admin、manager、sales 或 auditor") +
                                         did_you_mean(nearest_names(name, {"admin", "manager", "sales", "auditor"})));
  return *role;
}

// Error(usage) unless `verb` is one of `group`'s subcommands `verbs`; names the
// nearest for a typo (`user lst`). Checked before the verb's own words are read,
// so a typo is not told "missing user name".
void check_verb(const std::string& group, const std::string& verb, const std::vector<std::string>& verbs) {
  if (std::find(verbs.begin(), verbs.end(), verb) != verbs.end()) return;
  throw Error(Errc::usage, tr("unknown " + group + " subcommand \"" + verb + "\"", "未知的 " + group + " 子命令“" + verb + "”") +
                               did_you_mean(nearest_names(verb, verbs)));
}

// A field as the operator reads it: "客户类型 (type)" under KEHU_LANG=zh, the key
// (what the commands take) in English.
std::string shown_field(const CollectionDef& coll, const std::string& key) {
  const FieldDef* f = coll.find(key);
  if (message_lang() != Lang::zh || f == nullptr) return key;
  return f->zh + " (" + key + ")";
}

// A collection the same way: "客户 (customers)" or "customers".
std::string shown_collection(const CollectionDef& coll) {
  return message_lang() == Lang::zh ? coll.zh + " (" + coll.name + ")" : coll.name;
}

// Fields joined for a sentence: "客户类型 (type)、状态 (status)" or "type,status".
std::string shown_fields(const CollectionDef& coll, const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : tr(",", "、")) + shown_field(coll, k);
  return out;
}

int cmd_init(const CommandLine& cl) {
  cl.expect({"data", "store"}, 1);
  if (auto url = store_url(cl)) {
    const std::string shown = pg::redact_url(*url);
    std::printf(PostgresStore::initialise(*url) ? tr("initialised %s\n", "已初始化 %s\n").c_str()
                                                : tr("%s is already initialised\n", "%s 已经初始化过了\n").c_str(),
                shown.c_str());
    open_store(cl);
    return 0;
  }
  std::filesystem::path dir = cl.required("data");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(Errc::io, tr("cannot create " + dir.string() + ": " + ec.message(),
                                    "无法创建 " + dir.string() + "：" + ec.message()));
  const std::string path = store_path(cl);
  if (SqliteStore::initialise(path)) {
    std::printf(tr("initialised %s\n", "已初始化 %s\n").c_str(), path.c_str());
  } else {
    std::printf(tr("%s is already initialised\n", "%s 已经初始化过了\n").c_str(), path.c_str());
  }
  open_store(cl);
  return 0;
}

int cmd_user(const CommandLine& cl) {
  const std::string& verb = cl.word(1, tr("user subcommand (add, passwd, role, set-role, set-regions, disable, enable, list)", "user 子命令（add、passwd、role、set-role、set-regions、disable、enable、list）").c_str());
  check_verb("user", verb, {"add", "passwd", "role", "set-role", "set-regions", "disable", "enable", "list"});
  if (verb == "list") {
    cl.expect({"data", "store"}, 2);
    std::unique_ptr<Store> store = open_store(cl);
    // Tab-separated for scripts, under a header; the role as `user add` names it
    // (管理员, 经理, ... under KEHU_LANG=zh; the role key in English).
    std::fputs(tr("user\trole\tregions\n", "用户\t角色\t区域\n").c_str(), stdout);
    for (const User& u : UserAdmin(*store).list()) {
      std::string regions;
      for (const auto& r : u.regions) regions += (regions.empty() ? "" : ",") + r;
      const std::string role = role_label(u.role);
      std::printf("%s\t%s\t%s%s\n", u.name.c_str(), role.c_str(), regions.empty() ? "-" : regions.c_str(),
                  u.disabled ? tr("\tdisabled", "\t已停用").c_str() : "");
    }
    return 0;
  }
  const std::string& name = cl.word(2, tr("user name", "用户名").c_str());
  if (verb == "add") {
    cl.expect({"data", "store", "role"}, 3);
    Role role = role_arg(cl.required("role"));
    std::unique_ptr<Store> store = open_store(cl);
    UserAdmin(*store).add(name, role, read_new_password(name));
    std::printf(tr("added user %s (%s)\n", "已添加用户 %s（%s）\n").c_str(), name.c_str(), role_label(role).c_str());
  } else if (verb == "passwd") {
    cl.expect({"data", "store"}, 3);
    std::unique_ptr<Store> store = open_store(cl);
    UserAdmin(*store).set_password(name, read_new_password(name));
    std::printf(tr("changed the password of %s; their tokens are revoked\n", "已修改 %s 的密码；其登录凭据均已作废\n").c_str(),
                name.c_str());
  } else if (verb == "set-regions") {
    cl.expect({"data", "store"}, 4);
    const std::string& list = cl.word(3, tr("regions (comma-separated, e.g. 江苏,浙江/杭州)", "区域（用逗号分隔，例如 江苏,浙江/杭州）").c_str());
    std::unique_ptr<Store> store = open_store(cl);
    std::string stored;  // as kept (江苏省南京市 -> 江苏/南京), not as typed
    for (const auto& r : UserAdmin(*store).set_regions(name, split_list(list))) stored += (stored.empty() ? "" : ",") + r;
    std::printf(tr("%s now covers %s; their devices re-pull their customers at the next sync\n",
                   "%s 现在负责 %s；其设备下次同步时会重新下载客户\n")
                    .c_str(),
                name.c_str(), stored.empty() ? tr("no regions", "（无区域）").c_str() : stored.c_str());
  } else if (verb == "role" || verb == "set-role") {
    cl.expect({"data", "store"}, 4);
    Role role = role_arg(cl.word(3, tr("role", "角色").c_str()));
    std::unique_ptr<Store> store = open_store(cl);
    UserAdmin(*store).set_role(name, role);
    std::printf(tr("%s is now %s\n", "%s 现在的角色是 %s\n").c_str(), name.c_str(), role_label(role).c_str());
  } else {  // disable or enable (check_verb)
    cl.expect({"data", "store"}, 3);
    std::unique_ptr<Store> store = open_store(cl);
    const bool ended = UserAdmin(*store).set_disabled(name, verb == "disable");
    if (message_lang() == Lang::zh) {
      std::printf("%s 已%s%s\n", name.c_str(), verb == "disable" ? "停用" : "启用",
                  ended ? "；停用前的登录已全部失效，每台设备需重新 `kehu login`" : "");
    } else {
      std::printf("%s %sd%s\n", name.c_str(), verb.c_str(),
                  ended ? "; its sessions from before it was disabled are ended: each device runs `kehu login` again"
                        : "");
    }
  }
  return 0;
}

ListenOptions listen_options(const CommandLine& cl) {
  ListenOptions o;
  std::string listen = cl.option("listen").value_or("127.0.0.1:8080");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    throw Error(Errc::usage, tr("--listen \"" + listen + "\" is not HOST:PORT", "--listen“" + listen + "”不是 HOST:PORT 格式"));
  }
  o.host = listen.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') o.host = o.host.substr(1, o.host.size() - 2);
  try {
    std::size_t used = 0;
    o.port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || o.port < 0 || o.port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw Error(Errc::usage, tr("--listen \"" + listen + "\": port must be 0-65535", "--listen“" + listen + "”：端口必须在 0-65535 之间"));
  }
  o.tls_cert = cl.option("tls-cert").value_or("");
  o.tls_key = cl.option("tls-key").value_or("");
  o.reuse_port = cl.flag("reuse-port");
  return o;
}

int cmd_serve(const CommandLine& cl) {
  // glibc gives every worker thread its own malloc arena and keeps the freed
  // request/response JSON in each: two arenas serve the same throughput in about
  // half the peak memory (bench B8: 136 MB -> 78 MB with one arena).
  mallopt(M_ARENA_MAX, 2);
  cl.expect({"data", "store", "listen", "tls-cert", "tls-key", "reuse-port"}, 1);
  // SIGINT/SIGTERM are taken by one thread with sigwait, because stop() is not
  // async-signal-safe. They must be blocked before any other thread starts, so
  // every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

  ListenOptions options = listen_options(cl);
  const AuthSettings auth = auth_settings_from_env();
  if (std::string note = describe_overrides(auth); !note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
  options.limits = http_limits_from_env();
  if (std::string note = describe_overrides(options.limits); !note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
  std::unique_ptr<Store> store = open_store(cl);
  ServerClock clock;
  HttpServer server(*store, clock, options, auth);
  const int port = server.bind();
  // tests/support/server_fixture.cc reads the port from the English line.
  std::printf(tr("listening on %s:%d\n", "正在监听 %s:%d\n").c_str(), options.host.c_str(), port);
  std::fflush(stdout);

  std::atomic<bool> finished{false}, signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (finished) return;  // woken by main below: the server stopped by itself
    signalled = true;
    std::fprintf(stderr, "received %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    // stop() is a no-op until run() is listening; repeat until run() has returned.
    while (!finished) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const bool ok = server.run();
  finished = true;
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!ok) throw Error(Errc::io, tr("the server stopped listening unexpectedly", "服务器意外停止了监听"));
  std::fprintf(stderr, "stopped\n");
  return 0;
}

int cmd_customer(const CommandLine& cl) {
  const std::string& verb = cl.word(1, tr("customer subcommand (reassign)", "customer 子命令（reassign）").c_str());
  check_verb("customer", verb, {"reassign"});
  cl.expect({"data", "store", "reason"}, 4);
  const std::string& code = cl.word(2, tr("customer code", "客户编号").c_str());
  const std::string& owner = cl.word(3, tr("new owner (user name)", "新负责人（用户名）").c_str());
  std::unique_ptr<Store> store = open_store(cl);
  ServerClock clock;
  PushService push(*store, clock, /*limit_writes=*/false);
  // The console acts as an admin; the revision's author says where it came from.
  const Session console{"kehu-server", Role::admin, "server", {}, 0};
  json r = TeamService(*store, push).reassign(console, code, owner, cl.option("reason").value_or(""));
  const std::string rev = std::to_string(r.value("seq", std::int64_t{0}));
  std::fputs(tr(code + " now belongs to " + owner + " (revision " + rev + ")\n",
                code + " 的负责人现在是 " + owner + "（修订 " + rev + "）\n")
                 .c_str(),
             stdout);
  return 0;
}

int cmd_pool_recycle(const CommandLine& cl) {
  cl.expect({"data", "store", "days", "dry-run", "as-of"}, 2);
  const std::string days_text = cl.required("days");
  int days = 0;
  try {
    std::size_t used = 0;
    days = std::stoi(days_text, &used);
    if (used != days_text.size()) throw std::invalid_argument(days_text);
  } catch (const std::exception&) {
    throw Error(Errc::validation, tr("--days \"" + days_text + "\" is not a whole number", "--days“" + days_text + "”不是整数"));
  }
  std::unique_ptr<Store> store = open_store(cl);
  ServerClock clock;
  PushService push(*store, clock, /*limit_writes=*/false);
  const Session console{"kehu-server", Role::admin, "server", {}, 0};
  const bool dry_run = cl.flag("dry-run");
  json moved = TeamService(*store, push).recycle(console, days, cl.option("as-of").value_or(today_local()), dry_run);
  if (!moved.empty()) std::fputs(tr("customer\towner\tneglected since\n", "客户\t负责人\t未跟进自\n").c_str(), stdout);
  for (const auto& m : moved) {
    const std::string last = m["last"].get<std::string>();
    const std::string since = m.value("followed_up", false)
                                  ? tr("last follow-up " + last, "最近跟进 " + last)
                                  : tr("no follow-up since it was added on " + last, last + " 添加后没有跟进过");
    std::printf("%s\t%s\t%s\n", m["code"].get<std::string>().c_str(), m["owner"].get<std::string>().c_str(),
                since.c_str());
  }
  const std::string count = std::to_string(moved.size());
  std::fputs(tr(count + " customers " + (dry_run ? "would go back to" : "went back to") + " the public pool\n",
                count + " 个客户" + (dry_run ? "将退回公海" : "已退回公海") + "\n")
                 .c_str(),
             stdout);
  return 0;
}

int cmd_pool(const CommandLine& cl) {
  const std::string& verb = cl.word(1, tr("pool subcommand (set-cap, recycle)", "pool 子命令（set-cap、recycle）").c_str());
  check_verb("pool", verb, {"set-cap", "recycle"});
  if (verb == "recycle") return cmd_pool_recycle(cl);
  cl.expect({"data", "store"}, 3);
  const std::string& n = cl.word(2, tr("claims per user per day", "每人每天认领上限").c_str());
  std::int64_t cap = 0;
  try {
    std::size_t used = 0;
    cap = std::stoll(n, &used);
    if (used != n.size()) throw std::invalid_argument(n);
  } catch (const std::exception&) {
    throw Error(Errc::validation, tr("claim cap \"" + n + "\" is not a whole number", "认领上限“" + n + "”不是整数"));
  }
  std::unique_ptr<Store> store = open_store(cl);
  auto txn = store->begin(TxnMode::write);
  settings::set_claim_cap(*txn, cap);
  txn->commit();
  std::fputs(tr("each user may claim " + std::to_string(cap) + " pool customers per day\n",
                "每个用户每天最多可从公海认领 " + std::to_string(cap) + " 个客户\n")
                 .c_str(),
             stdout);
  return 0;
}

// --type of schema add-field, with a hint for a typo (interger): the check in
// add_custom_field lists the types but cannot guess which was meant.
std::string type_arg(const CommandLine& cl) {
  const std::string type = trim(cl.required("type"));
  const std::vector<std::string>& types = custom_field_types();
  if (std::find(types.begin(), types.end(), type) != types.end()) return type;
  const std::vector<std::string> near = nearest_names(type, types);
  if (near.empty()) return type;  // add_custom_field names it with the list
  throw Error(Errc::validation, tr("type \"" + type + "\" is not a field type", "类型“" + type + "”不是字段类型") +
                                    did_you_mean(near));
}

int cmd_schema(const CommandLine& cl) {
  const std::string& verb = cl.word(1, tr("schema subcommand (protect, show, add-field)", "schema 子命令（protect、show、add-field）").c_str());
  check_verb("schema", verb, {"protect", "show", "add-field"});
  std::unique_ptr<Store> store = open_store(cl);
  if (verb == "show") {
    cl.expect({"data", "store"}, 2);
    auto txn = store->begin(TxnMode::read);
    const auto schema = store_schema(*txn);
    for (const auto& coll : schema->collections()) {
      const std::string fields = shown_fields(coll, settings::protected_fields(*txn, coll.name));
      std::printf(tr("%s\tprotected: %s\n", "%s\t受保护字段：%s\n").c_str(), shown_collection(coll).c_str(),
                  fields.empty() ? "-" : fields.c_str());
    }
    const json list = custom_field_list(*txn);
    std::printf(tr("custom fields (version %lld):%s\n", "自定义字段（版本 %lld）：%s\n").c_str(),
                static_cast<long long>(list["version"].get<std::int64_t>()),
                list["fields"].empty() ? tr(" none", "无").c_str() : "");
    for (const auto& f : list["fields"]) {
      std::printf(tr("  %s.%s\t%s\t%s%s%s\tadded by %s at %s\n", "  %s.%s\t%s\t%s%s%s\t由 %s 于 %s 添加\n").c_str(),
                  f.value("collection", "").c_str(),
                  f.value("key", "").c_str(), f.value("label", "").c_str(),
                  field_type_word(f.value("type", ""), message_lang()).c_str(),
                  f.value("required", false) ? tr(", required", "，必填").c_str() : "",
                  f.value("restricted", false) ? tr(", restricted", "，受限").c_str() : "",
                  f.value("added_by", "").c_str(), display_time(f.value("added_at", "")).c_str());
    }
    std::printf(tr("claim cap: %lld per user per day\n", "认领上限：每人每天 %lld 个\n").c_str(),
                static_cast<long long>(settings::claim_cap(*txn)));
    return 0;
  }
  if (verb == "add-field") {
    cl.expect({"data", "store", "type", "label", "label-en", "values", "required", "restricted"}, 4);
    const json definition = {{"collection", cl.word(2, tr("collection (customers, orders, ...)", "表（customers、orders 等）").c_str())},
                             {"key", cl.word(3, tr("key ([a-z][a-z0-9_]{0,31})", "字段键（[a-z][a-z0-9_]{0,31}）").c_str())},
                             {"type", type_arg(cl)},
                             {"label", cl.required("label")},
                             {"label_en", cl.option("label-en").value_or("")},
                             {"values", cl.option("values").value_or("")},
                             {"required", cl.flag("required")},
                             {"restricted", cl.flag("restricted")}};
    auto txn = store->begin(TxnMode::write);
    const json added = add_custom_field(*txn, definition, "server-admin");
    txn->commit();
    const json& f = added["field"];
    std::printf(tr("added field %s.%s (%s, %s), schema version %lld; devices get it at their next sync\n",
                   "已添加字段 %s.%s（%s，%s），表结构版本 %lld；各设备下次同步时获取\n")
                    .c_str(),
                f.value("collection", "").c_str(), f.value("key", "").c_str(), f.value("label", "").c_str(),
                field_type_word(f.value("type", ""), message_lang()).c_str(),
                static_cast<long long>(added["version"].get<std::int64_t>()));
    return 0;
  }
  cl.expect({"data", "store"}, 4);
  const std::string& collection = cl.word(2, tr("collection (customers, orders, ...)", "表（customers、orders 等）").c_str());
  const std::string& list = cl.word(3, tr("fields (comma-separated keys or labels)", "字段（用逗号分隔的键或标签）").c_str());
  auto txn = store->begin(TxnMode::write);
  auto keys = settings::set_protected_fields(*txn, collection, split_list(list));
  const CollectionDef& coll = store_schema(*txn)->collection(collection);
  txn->commit();
  const std::string shown = shown_fields(coll, keys), named = shown_collection(coll);
  std::fputs(tr("protected fields of " + named + ": " + (shown.empty() ? std::string("none") : shown) +
                    " (a sales user's edit of them waits for a manager)\n",
                named + " 的受保护字段：" + (shown.empty() ? std::string("无") : shown) +
                    "（销售修改这些字段需经理审批）\n")
                 .c_str(),
             stdout);
  return 0;
}

// An existing file is kept unless --force: re-running yesterday's command must
// not replace last week's good copy without a word (walkthrough 9, R9-10).
// A backup (or an audit export) written over the store, its journal or its
// WAL replaces the data: --force does not ask for that (walkthrough 11,
// R11-14; attacker review 12, A12-3).
void refuse_existing_store_file(const std::string& store, const std::string& dest) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path to = fs::weakly_canonical(dest, ec);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const fs::path file = fs::weakly_canonical(store + suffix, ec);
    const bool same = fs::exists(dest, ec) && fs::exists(store + suffix, ec) ? fs::equivalent(dest, store + suffix, ec)
                                                                            : file == to;
    if (!same) continue;
    const std::string which = file.string() == dest ? std::string() : " (" + file.string() + ")";
    throw Error(Errc::usage, tr(dest + " is the store's own file" + which +
                                    ": write to another file, outside the data folder; nothing was written",
                                dest + " 就是存储自身的文件" + which + "：请写到数据文件夹以外的另一个文件；什么都没有写"));
  }
}

void refuse_existing(const CommandLine& cl, const std::string& file) {
  std::error_code ec;
  if (cl.flag("force") || !std::filesystem::exists(file, ec)) return;
  throw Error(Errc::usage, tr(file + " already exists: add --force to replace it, or choose another file name; "
                                     "nothing was written",
                              file + " 已经存在：要覆盖它请加 --force，或换一个文件名；什么都没有写"));
}

int cmd_audit_export(const CommandLine& cl) {
  cl.expect({"data", "store", "since", "until", "force"}, 3);
  const std::string& file = cl.word(2, tr("output file (FILE.csv)", "输出文件（FILE.csv）").c_str());
  // A day as typed anywhere else (2026/12/1, 2026年12月1日, full-width digits;
  // walkthrough 16, R16-8), or an instant YYYY-MM-DDTHH:MM:SSZ.
  const auto bound = [](const std::string& option, const std::string& text, TimeBound end) {
    const bool instant = text.size() == 20 && text[10] == 'T' && text.back() == 'Z';
    return parse_time_bound(option, instant ? text : read_day(option, text), end);
  };
  AuditFilter filter;
  filter.since = bound("--since", cl.required("since"), TimeBound::start);
  if (auto until = cl.option("until")) filter.until = bound("--until", *until, TimeBound::end);
  filter.check();
  if (!store_url(cl)) refuse_existing_store_file(store_path(cl), file);  // A12-3
  refuse_existing(cl, file);
  std::unique_ptr<Store> store = open_store(cl);
  ExportReport r = AuditExport(*store).write(filter, file);
  const std::string revisions = std::to_string(r.revisions), rows = std::to_string(r.rows);
  std::fputs(tr("exported " + revisions + " revisions (" + rows + " rows) to " + file + "\n",
                "已导出 " + revisions + " 条修订（" + rows + " 行）到 " + file + "\n")
                 .c_str(),
             stdout);
  if (r.damaged > 0) {
    const std::string n = std::to_string(r.damaged);
    std::fputs(tr(n + " damaged revision(s) left out: `kehu-server audit verify` names the first\n",
                  n + " 条已损坏的修订未导出：`kehu-server audit verify` 会指出第一条\n")
                   .c_str(),
               stderr);
    return 1;
  }
  return 0;
}

int cmd_audit(const CommandLine& cl) {
  const std::string& verb = cl.word(1, tr("audit subcommand (verify, export)", "audit 子命令（verify、export）").c_str());
  check_verb("audit", verb, {"verify", "export"});
  if (verb == "export") return cmd_audit_export(cl);
  cl.expect({"data", "store"}, 2);
  const auto damaged = [](const std::string& path, const std::vector<std::string>& problems) {
    std::string lines;
    for (const auto& p : problems) lines += "  " + p + "\n";
    std::fputs(tr("damaged: the store file " + path + " fails SQLite's integrity check:\n" + lines +
                      "restore the newest backup (README, \"Restore a backup\")\n",
                  "已损坏：存储文件 " + path + " 未通过 SQLite 完整性检查：\n" + lines +
                      "请恢复最新的备份（见 README 的“Restore a backup”）\n")
                   .c_str(),
               stdout);
    return 1;
  };
  std::unique_ptr<Store> store;
  try {
    store = open_store(cl);
  } catch (const Error& e) {
    // A file SQLite cannot open as a database (a damaged header, a cut-off
    // file) is damage too, said as such (walkthrough 12, R12-11).
    if (store_url(cl) || (e.code() != Errc::storage && e.code() != Errc::wrong_passphrase)) throw;
    return damaged(store_path(cl), {e.what()});
  }
  if (auto* file = dynamic_cast<SqliteStore*>(store.get())) {
    if (const auto problems = file->integrity_problems(); !problems.empty()) return damaged(file->path(), problems);
  }
  ChainReport r = ChainVerifier(*store).verify();
  const std::string checked = std::to_string(r.checked), records = std::to_string(r.records);
  if (r.ok) {
    // The newest revision, to compare with what the team last saw: a chain cut
    // at its end together with its records is an older store to every check.
    const std::string newest =
        r.newest_seq ? tr("; the newest revision: seq " + std::to_string(r.newest_seq) + ", written " + r.newest_at +
                              ", hash " + r.newest_hash,
                          "；最新一条修订：序号 " + std::to_string(r.newest_seq) + "，写入于 " + r.newest_at + "，哈希 " +
                              r.newest_hash)
                     : std::string();
    std::fputs(tr("ok: " + checked + " revisions, and the " + records + " records match them" + newest + "\n",
                  "正常：共 " + checked + " 条修订，" + records + " 条记录与之相符" + newest + "\n")
                   .c_str(),
               stdout);
    return 0;
  }
  if (r.seq == 0) {  // the chain is whole; a record, or the store, is not
    const std::string what =
        r.record_id.empty() ? std::string() : tr("record " + r.record_id + ": ", "记录 " + r.record_id + "：");
    std::fputs(tr("broken: " + what + r.problem + "\n  expected: " + r.expected + "\n  stored:   " + r.stored +
                      "\nrestore the newest backup (README, \"Restore a backup\")\n",
                  "已损坏：" + what + r.problem + "\n  应为：" + r.expected + "\n  实际：" + r.stored +
                      "\n请恢复最新的备份（见 README 的“Restore a backup”）\n")
                   .c_str(),
               stdout);
    return 1;
  }
  const std::string seq = std::to_string(r.seq);
  std::fputs(tr("broken: revision seq " + seq + " (record " + r.record_id + "): " + r.problem +
                    "\n  expected: " + r.expected + "\n  stored:   " + r.stored + "\n" + checked +
                    " revisions before it are intact\nrestore the newest backup (README, \"Restore a backup\")\n",
                "已损坏：修订 seq " + seq + "（记录 " + r.record_id + "）：" + r.problem + "\n  应为：" +
                    r.expected + "\n  实际：" + r.stored + "\n它之前的 " + checked + " 条修订完好\n请恢复最新的备份（见 README 的“Restore a backup”）\n")
                 .c_str(),
             stdout);
  return 1;
}

int cmd_backup(const CommandLine& cl) {
  cl.expect({"data", "store", "force"}, 2);
  const std::string& dest = cl.word(1, tr("backup file", "备份文件").c_str());
  if (store_url(cl)) {
    throw Error(Errc::usage,
                tr("backup copies the SQLite store (--data DIR); back up a PostgreSQL store with pg_dump, "
                   "which takes one consistent snapshot while servers keep writing",
                   "backup 只复制 SQLite 存储（--data DIR）；PostgreSQL 存储请用 pg_dump 备份，"
                   "它能在服务器继续写入时取得一致的快照"));
  }
  refuse_existing_store_file(store_path(cl), dest);
  namespace fs = std::filesystem;
  std::error_code ec;
  // A folder is no backup file (--force left FOLDER.tmp, a whole copy of the
  // store, behind: walkthrough 12, R12-4), nor is a path whose folder is missing.
  if (fs::is_directory(dest, ec)) {
    throw Error(Errc::usage, tr(dest + " is a folder: give a file name, such as " +
                                    (fs::path(dest) / ("kehu-" + today_local() + ".db")).string() +
                                    "; nothing was written",
                                dest + " 是文件夹：请给出文件名，例如 " +
                                    (fs::path(dest) / ("kehu-" + today_local() + ".db")).string() + "；什么都没有写"));
  }
  if (const fs::path folder = fs::path(dest).parent_path(); !folder.empty() && !fs::is_directory(folder, ec)) {
    throw Error(Errc::usage, tr("there is no folder " + folder.string() + " for " + dest + "; nothing was written",
                                "没有文件夹 " + folder.string() + "，无法写入 " + dest + "；什么都没有写"));
  }
  refuse_existing(cl, dest);
  SqliteStore store(store_path(cl));
  store.backup_to(dest);
  std::fputs(tr("backup of " + store.path() + " written to " + dest + "\n",
                store.path() + " 的备份已写入 " + dest + "\n")
                 .c_str(),
             stdout);
  return 0;
}

int run(int argc, char** argv) {
  CommandLine cl(argc, argv, {"help", "dry-run", "required", "restricted", "reuse-port", "force"});
  if (cl.words().empty() || cl.flag("help") || cl.words()[0] == "help") {
    std::fputs(usage().c_str(), cl.words().empty() && !cl.flag("help") ? stderr : stdout);
    return cl.words().empty() && !cl.flag("help") ? 2 : 0;
  }
  const std::string& command = cl.words()[0];
  if (command == "init") return cmd_init(cl);
  if (command == "user") return cmd_user(cl);
  if (command == "serve") return cmd_serve(cl);
  if (command == "audit") return cmd_audit(cl);
  if (command == "customer") return cmd_customer(cl);
  if (command == "pool") return cmd_pool(cl);
  if (command == "schema") return cmd_schema(cl);
  if (command == "backup") return cmd_backup(cl);
  const std::string hint = did_you_mean(
      nearest_name(command, {"init", "user", "serve", "audit", "customer", "pool", "schema", "backup", "help"}));
  throw Error(Errc::usage, tr("unknown command \"" + command + "\"", "未知命令“" + command + "”") + hint);
}

}  // namespace
}  // namespace kehu::server

int main(int argc, char** argv) {
  // The store holds password and token hashes: files this process creates
  // (store, WAL, backups) are for the server's account only.
  umask(077);
  try {
    kehu::set_today_from_env();
    // The operator's language for this command's messages; `serve` answers each
    // request in the language that request asks for.
    kehu::set_message_lang(kehu::lang_from_environment(/*warn=*/true));
    return kehu::server::run(argc, argv);
  } catch (const kehu::Error& e) {
    std::fprintf(stderr, "kehu-server: %s\n", e.what());
    if (e.code() == kehu::Errc::usage) std::fputs(kehu::tr("run `kehu-server --help` for usage\n", "用法请运行 `kehu-server --help`\n").c_str(), stderr);
    return kehu::exit_code(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kehu-server: %s\n", e.what());
    return 1;
  }
}
