#include "postgres_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <vector>

namespace kehu::test {

namespace {

namespace fs = std::filesystem;

// The system user that owns the cluster when the tests run as root.
constexpr const char* kPostgresUser = "postgres";

std::string state_path() {
  if (const char* env = std::getenv("KEHU_TEST_PG_STATE")) return env;
#ifdef KEHU_TEST_PG_STATE_PATH
  return KEHU_TEST_PG_STATE_PATH;
#else
  return (fs::temp_directory_path() / "kehu-test-pg.state").string();
#endif
}

// Debian installs the server programs in /usr/lib/postgresql/N/bin; the newest
// wins. Found once (the cluster's destructor runs after Catch has ended and
// must not FAIL).
std::string find_bindir() {
  if (const char* env = std::getenv("KEHU_PG_BINDIR")) return env;
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb") || !fs::exists(bin / "pg_ctl")) continue;
    try {
      found.emplace_back(std::stoi(entry.path().filename().string()), bin.string());
    } catch (const std::exception&) {
    }
  }
  if (found.empty()) {
    FAIL(
        "PostgreSQL's initdb and pg_ctl are not in /usr/lib/postgresql/*/bin: install the "
        "`postgresql` "
        "package (scripts/install-deps.sh) or set KEHU_PG_BINDIR");
  }
  std::sort(found.begin(), found.end());
  return found.back().second;
}

const std::string& bindir() {
  static const std::string dir = find_bindir();
  return dir;
}

// Runs argv[0] with its arguments; as the postgres user when we are root. No
// Catch macros: the cluster's destructor calls it after the test run.
PgCommandResult run(std::vector<std::string> args, bool as_postgres = false) {
  if (as_postgres && geteuid() == 0) {
    args.insert(args.begin(), {"runuser", "-u", kPostgresUser, "--"});
  }
  PgCommandResult out;
  int fds[2];
  if (pipe(fds) != 0) {
    out.output = "pipe: " + std::string(std::strerror(errno));
    return out;
  }
  pid_t pid = fork();
  if (pid < 0) {
    out.output = "fork: " + std::string(std::strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return out;
  }
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::perror(argv[0]);
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0)
    out.output.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  out.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A port nobody listens on right now (the kernel's choice for port 0).
int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(s);
  return ntohs(addr.sin_port);
}

bool answers(int port) {
  return run({bindir() + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port), "-t",
              "5"})
             .exit_code == 0;
}

void stop_cluster(const std::string& dir) {
  run({bindir() + "/pg_ctl", "-D", dir + "/data", "-m", "fast", "-w", "-t", "30", "stop"},
      /*as_postgres=*/true);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// A cluster a test process started for itself records that process in
// DIR/owner. One left behind by a process that died without its destructor
// (Ctrl-C, a kill by ctest's timeout) is stopped by the next one that starts.
constexpr const char* kOwnerFile = "owner";

void stop_orphans() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
    if (entry.path().filename().string().rfind("kehu-pg-", 0) != 0) continue;
    std::ifstream in(entry.path() / kOwnerFile);
    pid_t owner = 0;
    if (!(in >> owner) || owner <= 0) continue;
    if (kill(owner, 0) != 0 && errno == ESRCH) stop_cluster(entry.path().string());
  }
}

// Starts a new cluster; returns it. FAILs with what initdb or the server said.
std::unique_ptr<PostgresCluster> start_cluster(bool owned) {
  const std::string bin = bindir();
  stop_orphans();
  char tmpl[] = "/tmp/kehu-pg-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam(kPostgresUser);
    if (pw == nullptr) {
      fs::remove_all(dir);
      FAIL("the tests run as root, and there is no `"
           << kPostgresUser
           << "` user to run PostgreSQL as (initdb refuses root): "
              "install the `postgresql` package");
    }
    REQUIRE(chown(dir.c_str(), pw->pw_uid, pw->pw_gid) == 0);
  }
  auto init = run({bin + "/initdb", "-D", dir + "/data", "-U", "postgres", "--auth=trust", "-E",
                   "UTF8", "--locale=C", "--no-sync"},
                  /*as_postgres=*/true);
  if (init.exit_code != 0) {
    fs::remove_all(dir);
    FAIL("initdb failed (exit " << init.exit_code << "):\n" << init.output);
  }
  // Three tries: another process may take the free port before the server binds it.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = free_port();
    const std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port) +
                                " -c unix_socket_directories=" + dir +
                                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                                " -c max_connections=300 -c shared_buffers=32MB";
    auto start = run({bin + "/pg_ctl", "-D", dir + "/data", "-l", dir + "/postgres.log", "-w", "-t",
                      "60", "-o", options, "start"},
                     /*as_postgres=*/true);
    if (start.exit_code == 0) {
      if (owned) std::ofstream(dir + "/" + kOwnerFile) << getpid() << '\n';
      return std::make_unique<PostgresCluster>(dir, port, owned);
    }
    if (attempt == 2) {
      const std::string log = read_file(dir + "/postgres.log");
      fs::remove_all(dir);
      FAIL("PostgreSQL did not start (pg_ctl exit " << start.exit_code << "):\n"
                                                    << start.output << "\npostgres.log:\n"
                                                    << log);
    }
  }
  return nullptr;
}

std::unique_ptr<PostgresCluster>& instance() {
  static std::unique_ptr<PostgresCluster> cluster;
  return cluster;
}

// The cluster recorded in the state file, if the file names one that answers.
struct Recorded {
  std::string dir;
  int port = 0;
};
std::optional<Recorded> recorded() {
  std::ifstream in(state_path());
  Recorded r;
  if (!(in >> r.port >> r.dir)) return std::nullopt;
  return r;
}

}  // namespace

bool postgres_selected() {
  const char* store = std::getenv("KEHU_TEST_STORE");
  return store != nullptr && std::string(store) == "postgresql";
}

PostgresCluster& PostgresCluster::shared() {
  auto& cluster = instance();
  if (!cluster) {
    if (auto r = recorded(); r && answers(r->port)) {
      cluster = std::make_unique<PostgresCluster>(r->dir, r->port, /*owned=*/false);
    } else {
      cluster = start_cluster(/*owned=*/true);
    }
  }
  return *cluster;
}

void PostgresCluster::start_shared_cluster() {
  if (auto r = recorded()) {
    stop_cluster(r->dir);  // left by an interrupted run
    fs::remove(state_path());
  }
  auto cluster = start_cluster(/*owned=*/false);
  const std::string tmp = state_path() + ".tmp";
  {
    std::ofstream out(tmp);
    out << cluster->port() << ' ' << cluster->dir_ << '\n';
    REQUIRE(out.flush());
  }
  fs::rename(tmp, state_path());
}

void PostgresCluster::stop_shared_cluster() {
  auto r = recorded();
  if (!r) return;  // the start test failed and said why
  stop_cluster(r->dir);
  fs::remove(state_path());
}

PostgresCluster::~PostgresCluster() {
  if (owned_) stop_cluster(dir_);
}

std::string PostgresCluster::url(const std::string& db) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

PgCommandResult PostgresCluster::psql(const std::string& db, const std::string& sql) const {
  return run({bindir() + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
              "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres", "-d", db, "-c", sql});
}

std::string PostgresCluster::create_database() {
  static std::mt19937 rng(std::random_device{}());
  static int counter = 0;
  const std::string name = "kehu_" + std::to_string(getpid()) + "_" + std::to_string(++counter) +
                           "_" + std::to_string(std::uniform_int_distribution<int>(0, 999999)(rng));
  auto r = psql("postgres", "CREATE DATABASE " + name + " ENCODING 'UTF8' TEMPLATE template0");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return name;
}

void PostgresCluster::drop_database(const std::string& name) {
  psql("postgres", "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

PostgresDatabase::PostgresDatabase() : name_(PostgresCluster::shared().create_database()) {}

PostgresDatabase::~PostgresDatabase() { PostgresCluster::shared().drop_database(name_); }

}  // namespace kehu::test
