#include "kehu/sync/sync_session.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "kehu/custom_fields.h"
#include "kehu/duplicates.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/place.h"
#include "kehu/replica.h"
#include "kehu/reports.h"

namespace kehu::sync {
namespace {

// The device cookie the server gave at the last login (POST /v1/login).
constexpr const char* kDeviceCookieMeta = "device_cookie";

// The user's regions a login or pull answer carries, as kRegionsMeta keeps
// them; "" when it carries none (an older server).
std::string regions_meta(const json& body) {
  auto it = body.find("regions");
  if (it == body.end() || !it->is_array()) return {};
  for (const auto& r : *it) {
    if (!r.is_string()) return {};
  }
  return it->dump();
}

// Customer-code serials a device asks for at a time, and the low-water mark at
// which it asks again: enough to create customers for a week offline.
constexpr std::int64_t kLeaseBlock = 20;
constexpr std::int64_t kLeaseLowWater = 5;
// The JSON a push page carries at most (one change more when it alone is larger):
// under the 1 MiB above which the server asks bodies for a minimum rate.
constexpr std::size_t kMaxPushPageBytes = 512 * 1024;

// The server's message for a person: its error kind ("validation", ...) is for
// programs and decides the Errc below, never shown.
std::string error_message(const HttpResponse& r) {
  if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_object()) {
    return r.body["error"].value("message", "");
  }
  return "HTTP " + std::to_string(r.status);
}

// The "code" of an error answer ("" when it has none).
std::string error_code(const HttpResponse& r) {
  return r.body.is_object() && r.body.contains("error") && r.body["error"].is_object()
             ? r.body["error"].value("code", "")
             : std::string();
}

// Turns a non-2xx answer that retrying cannot fix into an Error.
// `credentials`: the request itself sent a password (login, password change),
// so a 401 is about that password, and a new login is no remedy.
// `carries_edits`: the request sends or receives the device's edits (sync), so a
// refusal says they are kept; a request that writes nothing (approve, claim,
// audit) has no local edits to speak of.
void raise_for_status(const HttpResponse& r, const std::string& what, bool credentials = false,
                      bool carries_edits = true) {
  if (r.status >= 200 && r.status < 300) return;
  std::string msg = what + tr(": ", "：") + error_message(r);
  if (r.status == 401 && !credentials) {
    // The device's session is over (logged out, a password change on another
    // device, expired, or the user was re-enabled): said by the code, not with
    // the server's words about tokens, with what to do and that nothing is lost.
    throw Error(Errc::unauthorized,
                what + tr(": this device is no longer logged in (logged out, the password was changed on another "
                          "device, the login expired, or the server was restored from a backup older than the "
                          "login); run `kehu login` again - your edits on this device are kept",
                          "：本机的登录已失效（已退出、在别的设备上改了密码、登录已过期，或服务器从登录之前的备份恢复了）；"
                          "请运行 `kehu login` 重新登录，本机的修改都还在"));
  }
  if (r.status == 401) throw Error(Errc::unauthorized, msg + tr("; check the user name and password", "；请检查用户名和密码"));
  if (r.status == 403 && !carries_edits) throw Error(Errc::forbidden, msg);
  if (r.status == 403) {
    throw Error(Errc::forbidden, msg + tr("; your edits on this device are kept - ask your administrator",
                                          "；本机的修改仍保留，请联系管理员"));
  }
  // Too many failed logins: the server's message says when to try again.
  if (r.status == 429) throw Error(Errc::forbidden, msg);
  if (r.status >= 500) throw Error(Errc::server, msg);
  const std::string code = error_code(r);
  if (code == "validation") throw Error(Errc::validation, msg);
  if (code == "not_found") throw Error(Errc::not_found, msg);
  throw Error(Errc::protocol, msg);
}

// std::async on the caller's message language: a thread starts in English
// (the language is per thread), so the request it sends would ask the server
// for English and its own messages would be English under KEHU_LANG=zh.
template <class F>
auto async_in_callers_lang(F f) {
  return std::async(std::launch::async, [f = std::move(f), lang = message_lang()]() mutable {
    MessageLangScope scope(lang);
    return f();
  });
}

// Whether a pulled revision may have made its customer a duplicate of another:
// it created the customer, brought it back from the recycle bin, changed what
// its duplicate keys are made of (duplicates.h), or changed owner or region,
// which may have brought it into this device's scope. An edit of anything else
// leaves the pairs the last check reported as they were, so they are not
// reported again on every sync that touches the customer.
bool may_add_duplicates(const Revision& r) {
  if (r.collection != "customers") return false;
  if (r.op == Op::create || r.op == Op::restore) return true;
  for (const auto& [field, change] : r.changes) {
    if (is_duplicate_key_field(field) || field == "owner" || field == "province" ||
        field == "city" || field == kDeletedField) {
      return true;
    }
  }
  return false;
}

// Moves the array `key` out of a pull answer: an empty one if it is missing (an
// older server), a protocol error if it is not an array.
json take_array(json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return json::array();
  if (!it->is_array()) {
    throw Error(Errc::protocol, tr(std::string("pull answer: \"") + key + "\" is not an array",
                                   std::string("拉取结果中的 \"") + key + "\" 不是数组"));
  }
  return std::move(*it);
}

// Takes the record's values out of `j` rather than copying them.
PulledRecord pulled_record(json&& j) {
  PulledRecord p;
  p.id = j.at("id").get<std::string>();
  p.collection = j.at("collection").get<std::string>();
  p.code = j.value("code", "");
  p.parent = j.value("parent", "");
  p.rev = j.value("rev", std::int64_t{0});
  p.deleted = j.value("deleted", false);
  if (auto it = j.find("fields"); it != j.end() && it->is_object()) p.fields = std::move(*it);
  p.old_codes = j.value("old_codes", std::vector<std::string>{});
  return p;
}

// The server the replica is logged in to, or Error(unauthorized).
std::string logged_in_server(const Replica& rep) {
  std::string server = rep.meta("server");
  if (server.empty() || rep.meta("token").empty()) {
    throw Error(Errc::unauthorized, tr("not logged in: run `kehu login --server URL --user NAME`",
                                       "还没有登录：请运行 `kehu login --server URL --user NAME`"));
  }
  return server;
}

// `http` with the CA file remembered at login unless the caller gives one.
HttpOptions with_remembered_ca(const Replica& rep, HttpOptions http) {
  if (http.ca_file.empty()) http.ca_file = rep.meta("ca_file");
  return http;
}

// One sync of a replica at a time, across processes too: `kehu sync`, `kehu
// sync --watch` and an app's replicator on one file take turns (flock on
// FILE.sync-lock; the kernel lets go if the process dies). A waiting pull
// lets go while it waits, so a one-shot sync is never held up by it.
class SyncLock {
 public:
  explicit SyncLock(const std::string& replica_path) {
    if (replica_path.empty()) return;
    const std::string path = replica_path + ".sync-lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      throw Error(Errc::io, tr("cannot open " + path + ": " + std::strerror(errno),
                               "无法打开 " + path + "：" + std::strerror(errno)));
    }
    acquire();
  }
  ~SyncLock() {
    if (fd_ >= 0) ::close(fd_);  // and the lock with it
  }
  SyncLock(const SyncLock&) = delete;
  SyncLock& operator=(const SyncLock&) = delete;
  void acquire() {
    while (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  void release() {
    if (fd_ >= 0) ::flock(fd_, LOCK_UN);
  }

 private:
  int fd_ = -1;
};

class Session {
 public:
  // `lock`: the sync's (a waiting pull lets go of it while it waits); null
  // for one request of an online command.
  Session(Replica& rep, const SyncOptions& opts, SyncLock* lock = nullptr)
      : rep_(rep), opts_(opts), lock_(lock), http_(logged_in_server(rep), with_remembered_ca(rep, opts.http)) {
    http_.set_token(rep.meta("token"));
  }

  // Customers a pulled revision may have made duplicates of others (duplicate check).
  std::vector<std::string> arrived;
  bool waited() const { return waited_; }
  long wait_refused_s() const { return wait_refused_s_; }
  // Pushed changes the server answered "rebase", and whether they were sent again.
  std::vector<std::string> to_rebase;
  std::size_t answered_rebase = 0;  // of those, pushed (the rest: requeue_awaiting)
  bool rebased_once_ = false;
  // Customers (id, code) the device held when the pull found the server
  // restored, less those the pull brought again.
  std::map<std::string, std::string> held_before_restore;
  // The values of every live customer the device held then, by id (code, fields).
  std::map<std::string, std::pair<std::string, json>> values_before_restore;
  std::set<std::string> vanished_;  // the codes of those the restored store does not have
  std::string copy_before_restore_;  // the replica's copy made when the pull found the server restored
  // The conflicts pulled revisions carry: record id, rev, field.
  std::set<std::tuple<std::string, std::int64_t, std::string>> pulled_conflicts;

  void lease_codes() {
    std::string month = this_month_local();
    if (rep_.leased_codes_left(month) >= kLeaseLowWater) return;
    const std::string what = tr("lease of customer codes", "申请客户编号");
    HttpResponse r = call("/v1/leases", {{"month", month}, {"count", kLeaseBlock}}, what);
    // A role that may not create customers gets no lease, nor does a device whose
    // calendar runs months ahead of the server's (400 validation): its sync goes
    // on, and its new customers get provisional codes that the server re-codes.
    if (r.status == 403 || (r.status == 400 && r.body.is_object() && r.body.contains("error") &&
                            r.body["error"].value("code", "") == "validation")) {
      return;
    }
    raise_for_status(r, what);
    rep_.add_code_lease(month, r.body.at("first").get<std::int64_t>(), r.body.at("last").get<std::int64_t>());
  }

  // Pages are pipelined: once the server has answered a page (it is committed
  // there), the next one is sent while this one's answers are stored. Pages
  // still reach the server one at a time and in device order.
  void push(SyncReport& report) {
    auto send = [this](json request) {
      const std::string what = tr("sync (sending your edits)", "同步（上传修改）");
      HttpResponse r = call("/v1/push", request, what);
      // A role that may not write (an auditor whose replica did not know its
      // role) is refused the whole push from its headers: each change of the
      // page is refused with that reason, and the sync goes on to its pull.
      if (r.status == 403 || too_many_changes(r)) return r;
      raise_for_status(r, what);
      return r;
    };
    auto request_of = [this](const std::vector<LoggedChange>& batch) {
      json changes = json::array();
      for (const auto& lc : batch) changes.push_back(to_json(lc.change));
      return json{{"device", rep_.device_id()}, {"changes", std::move(changes)}};
    };
    // A page is at most push_page changes and kMaxPushPageBytes of JSON (at
    // least one change): a body over 1 MiB must keep the server's large-body
    // rate, which a slow uplink cannot, and the same page would be cut at every
    // sync (attacker review 5, A5-3).
    auto page_after = [this](std::int64_t seq) {
      std::vector<LoggedChange> page = rep_.pending_changes(seq, opts_.push_page);
      std::size_t bytes = 0, keep = 0;
      while (keep < page.size()) {
        bytes += to_json(page[keep].change).dump().size() + 1;
        if (keep > 0 && bytes > kMaxPushPageBytes) break;
        ++keep;
      }
      page.resize(keep);
      return page;
    };
    auto batch = page_after(0);
    if (batch.empty()) return;
    const std::size_t total =
        opts_.counts ? static_cast<std::size_t>(rep_.status().pending) : std::size_t{0};
    if (opts_.counts) {
      opts_.counts(ProgressKind::push_changes, 0, total);
    } else {
      progress(tr("pushing " + std::to_string(batch.size()) + " changes…",
                  "正在推送 " + std::to_string(batch.size()) + " 条修改…"));
    }
    std::future<HttpResponse> in_flight = async_in_callers_lang([send, request = request_of(batch)] { return send(request); });
    for (;;) {
      HttpResponse r = in_flight.get();
      if (too_many_changes(r)) {
        // The user's write budget is spent: what is not sent waits on the
        // device, and the sync goes on to its pull.
        report.held_back = error_message(r);
        report.held_back_changes = static_cast<std::size_t>(rep_.status().pending);
        return;
      }
      if (r.status == 403) {
        // Refused for the account (a disabled user), not for its role: every
        // request is. The changes stay pending for when it is enabled again;
        // they were filed as refused, and never went out (walkthrough 10, R10-1).
        const std::string what = tr("sync (sending your edits)", "同步（上传修改）");
        if (call("/v1/schema", json::object(), what).status == 403) raise_for_status(r, what);
        const std::string why = error_message(r);
        rep_.batch([&] {
          for (const auto& lc : batch) {
            rep_.mark_rejected(lc.change.change_id, why);
            ++report.rejected;
            report.rejections.push_back(refusal_of(lc, why));
          }
        });
        batch = page_after(batch.back().seq);
        if (batch.empty()) return;
        in_flight = async_in_callers_lang([send, request = request_of(batch)] { return send(request); });
        continue;
      }
      observe(r.body);
      // The server stopped at its time budget under the write lock: the last
      // `deferred` changes were not looked at. They are sent again, before any
      // later change, so changes still reach the server in device order.
      const std::size_t deferred = r.body.is_object() && r.body.value("deferred", json()).is_number_unsigned()
                                       ? r.body["deferred"].get<std::size_t>()
                                       : 0;
      if (deferred > 0) {
        if (deferred >= batch.size()) {
          throw Error(Errc::protocol, tr("push: the server answered none of " + std::to_string(batch.size()) + " changes",
                                       "上传修改：服务器对 " + std::to_string(batch.size()) + " 条修改都没有答复"));
        }
        const std::int64_t answered_up_to = batch[batch.size() - deferred - 1].seq;
        report.pushed += batch.size() - deferred;
        if (opts_.counts) opts_.counts(ProgressKind::push_changes, report.pushed, std::max(total, report.pushed));
        store_push_results(batch, r.body, report);
        batch = page_after(answered_up_to);
        if (batch.empty()) return;
        in_flight = async_in_callers_lang([send, request = request_of(batch)] { return send(request); });
        continue;
      }
      report.pushed += batch.size();
      if (opts_.counts) opts_.counts(ProgressKind::push_changes, report.pushed, std::max(total, report.pushed));
      auto next = page_after(batch.back().seq);
      if (!next.empty()) {
        if (!opts_.counts) progress(tr("pushing " + std::to_string(report.pushed + next.size()) + " changes…",
                                         "正在推送 " + std::to_string(report.pushed + next.size()) + " 条修改…"));
        in_flight = async_in_callers_lang([send, request = request_of(next)] { return send(request); });
      }
      store_push_results(batch, r.body, report);
      if (next.empty()) return;
      batch = std::move(next);
    }
  }

  // The server's answers to one pushed page, in one replica transaction: a
  // commit per change was a third of the client's push time (bench B5).
  void store_push_results(const std::vector<LoggedChange>& batch, const json& answer,
                          SyncReport& report) {
    std::map<std::string, const Change*> sent;
    std::map<std::string, const LoggedChange*> logged;
    for (const auto& lc : batch) {
      sent[lc.change.change_id] = &lc.change;
      logged[lc.change.change_id] = &lc;
    }
    rep_.batch([&] {
      for (const auto& res : answer.value("results", json::array())) {
        std::string id = res.value("change_id", "");
        const std::string status = res.value("status", "");
        // Made on a revision the server's restored store does not have: kept
        // pending, sent again once the pull brought the restored store
        // (sync()). A second such answer is a refusal like any other.
        // An edit of a record the server does not have waits too, as does a
        // new follow-up of such a customer: the pull may find the store
        // restored without it, which the refusal then says (a customer
        // "reassigned", walkthrough 11, R11-4; its follow-ups named by ids,
        // walkthrough 17, R17-5).
        const bool unknown_record = status == "rejected" && res.value("error", json::object()).is_object() &&
                                    res.value("error", json::object()).value("code", "") == "not_found" &&
                                    sent.count(id) &&
                                    (sent[id]->op != Op::create || sent[id]->collection != "customers");
        if ((status == "rebase" || unknown_record) && !rebased_once_) {
          to_rebase.push_back(id);
          ++answered_rebase;
          continue;
        }
        // Taken: the server took the fields it names out of the user's older
        // requests on the record (docs/protocol.md); the device's waiting
        // changes follow, or they listed, and a retry sent again, what the user
        // had undone (walkthrough 12, R12-1).
        if (auto s = sent.find(id); s != sent.end() && (status == "applied" || status == "pending_approval")) {
          std::vector<std::string> keys;
          for (const auto& [key, fc] : s->second->fields) keys.push_back(key);
          const std::vector<std::int64_t> emptied = rep_.narrow_awaiting(s->second->record_id, keys);
          // Withdrawn by this edit, not replaced by a newer request (R13-14).
          if (status == "applied") {
            report.withdrawn_by_edit.insert(report.withdrawn_by_edit.end(), emptied.begin(), emptied.end());
          }
        }
        if (status == "pending_approval") {
          rep_.mark_awaiting(id, res.value("request", std::int64_t{0}));
          ++report.awaiting;
          continue;
        }
        if (status == "applied" && res.value("noop", false)) {
          rep_.mark_unchanged(id);
          ++report.applied;
          ++report.unchanged;
          continue;
        }
        if (status == "applied") {
          std::int64_t rev = res.value("rev", std::int64_t{0});
          const std::string code = res.value("code", "");
          // A new customer's code the server replaced (a salesperson's sheet
          // codes, a provisional code): named, since the user knows the old one
          // (walkthrough 9, R9-6).
          if (auto s = sent.find(id); s != sent.end() && s->second->op == Op::create &&
                                      s->second->collection == "customers" && !s->second->code.empty() &&
                                      !code.empty() && code != s->second->code) {
            report.renumbered.emplace_back(s->second->code, code);
          }
          rep_.mark_accepted(id, rev, code);
          ++report.applied;
          if (const std::string to = res.value("forwarded_to", ""); !to.empty()) {
            const std::string from = sent.count(id) ? rep_.customer_code_of(*sent[id]) : std::string();
            const std::pair<std::string, std::string> moved{from, to};
            if (std::find(report.forwarded.begin(), report.forwarded.end(), moved) == report.forwarded.end()) {
              report.forwarded.push_back(moved);
            }
          }
          // Applied except its protected fields, which wait for a manager.
          const json held = res.value("held", json());
          if (res.contains("request") && held.is_array()) {
            std::vector<std::string> keys;
            for (const auto& k : held) {
              if (k.is_string()) keys.push_back(k.get<std::string>());
            }
            rep_.hold_for_approval(id, res.value("request", std::int64_t{0}), keys);
            ++report.partly_awaiting;
          }
          // Someone else changed the record since this device saw it: the server
          // merged the two field by field.
          auto it = sent.find(id);
          if (it != sent.end() && it->second->op != Op::create && rev > it->second->base_rev + 1) {
            ++report.merged;
          }
        } else {
          std::string why = refusal_reason(res, logged.count(id) ? &logged[id]->change : nullptr);
          rep_.mark_rejected(id, why);
          ++report.rejected;
          if (auto lc = logged.find(id); lc != logged.end()) report.rejections.push_back(refusal_of(*lc->second, why));
        }
      }
    });
  }

  // Why the server refused a pushed change, for the person who typed it. A
  // not_found answer names the record by its id and the user by name; the
  // customer's code and what probably happened say it better, in the user's
  // language (chosen by the code, not the server's words).
  std::string refusal_reason(const json& result, const Change* change) {
    const json error = result.value("error", json::object());
    const std::string message = error.is_object() ? error.value("message", "") : std::string();
    const std::string code = error.is_object() ? error.value("code", "") : std::string();
    if (code == "not_found" && change) {
      const std::string customer = rep_.customer_code_of(*change);
      if (vanished_.count(customer)) return vanished_reason(customer);
      // A follow-up (or order, ...) made for a customer that has left the user's
      // hands is refused for a parent the server does not let them see.
      if ((change->op != Op::create || !change->parent.empty()) && !customer.empty()) {
        return in_both(customer + " is no longer yours to change (reassigned, returned to the public pool or moved "
                                  "out of your regions); it leaves this device at this sync",
                       customer + " 已不在你的负责范围内（已转给别人、退回公海或不在你的区域），本次同步后从本机移除");
      }
    }
    return message.empty() ? tr("refused", "被拒绝") : message;
  }

  // POSTs with retries: network errors, 5xx and a busy server's 429 are
  // retried with capped exponential backoff, never sooner than the server's
  // Retry-After; anything else is answered at once. `what` names the request in
  // the user's words when it gives up; `in_sync`: the request is part of
  // `kehu sync`, which is what to run again (else the same command).
  // `after_break`, when given, may change the body before a retry that follows
  // a broken connection (a pull asks for smaller pages then).
  HttpResponse call(const std::string& path, const json& first_body, const std::string& what, bool in_sync = true,
                    const std::function<void(json&)>& after_break = {},
                    const std::function<bool()>& interrupted = {}) {
    int delay = opts_.backoff_initial_ms;
    json body = first_body;
    for (int attempt = 1;; ++attempt) {
      std::string failure;
      Errc code = Errc::network;
      long retry_after_s = 0;
      try {
        const std::function<bool()>& stop = interrupted && body.contains("wait") ? interrupted : opts_.cancelled;
        HttpResponse r = stop ? http_.post(path, body, stop) : http_.post(path, body);
        retry_after_s = r.retry_after_s;
        // The server holds as many waiting pulls as it may: ask without waiting.
        if ((r.status == 503 || r.status == 429) && body.contains("wait") && error_code(r) == "too_many_waiting") {
          body.erase("wait");
          wait_refused_s_ = std::max<long>(1, r.retry_after_s);
          --attempt;
          continue;
        }
        // 429 other than a login throttle: the server is busy with this user's
        // other requests (one push at a time, a share of the upload budget) and
        // asks for the same request again shortly.
        // Not a spent write budget either: that lasts minutes, and the push
        // stops at it (too_many_changes).
        const bool busy_for_user = r.status == 429 && r.body.is_object() && r.body.contains("error") &&
                                   r.body["error"].is_object() && r.body["error"].value("code", "") != "throttled" &&
                                   !too_many_changes(r);
        if (r.status < 500 && !busy_for_user) return r;
        failure = error_message(r);
        code = Errc::server;
      } catch (const TlsError&) {
        throw;  // a refused certificate stays refused: no retries
      } catch (const Interrupted&) {
        throw;  // the caller asked to stop
      } catch (const Error& e) {
        if (e.code() != Errc::network) throw;
        failure = e.what();
        if (after_break) after_break(body);
      }
      if (attempt >= opts_.max_attempts) {
        const std::string n = std::to_string(attempt);
        throw Error(code, tr(what + " failed after " + n + " attempts: " + failure + ". Nothing was lost; " +
                                 (in_sync ? "run `kehu sync` again." : "run the same command again later."),
                             what + "试了 " + n + " 次都没有成功：" + failure + "。什么都没有丢失；" +
                                 (in_sync ? "请再运行 `kehu sync`。" : "请稍后再运行同一条命令。")));
      }
      // A busy server says when to come back (at most a minute is waited).
      const long wait = std::max<long>(delay, std::min<long>(retry_after_s, 60) * 1000);
      progress(tr("retrying " + what + " in " + std::to_string(wait) + " ms (" + failure + ")",
                  std::to_string(wait) + " 毫秒后重试" + what + "（" + failure + "）"));
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
      delay = std::min(delay * 2, opts_.backoff_max_ms);
    }
  }

  static bool too_many_changes(const HttpResponse& r) {
    return r.status == 429 && r.body.is_object() && r.body.contains("error") && r.body["error"].is_object() &&
           r.body["error"].value("code", "") == "too_many_changes";
  }

  void observe(const json& body) {
    if (body.contains("server_hlc")) rep_.observe_clock(body["server_hlc"].get<std::int64_t>());
  }

  // Asks about the changes waiting for a manager's approval; decided ones leave
  // the waiting state (approved: the server's revision comes with the pull).
  void check_approvals(SyncReport& report) {
    auto waiting = rep_.changes_in_state("awaiting");
    if (waiting.empty()) return;
    // The server answers at most 500 ids a request (docs/protocol.md).
    constexpr std::size_t kPage = 500;
    std::map<std::int64_t, json> by_id;
    for (std::size_t first = 0; first < waiting.size(); first += kPage) {
      json ids = json::array();
      for (std::size_t i = first; i < std::min(first + kPage, waiting.size()); ++i) ids.push_back(waiting[i].request);
      // Named as the step of the sync the user ran (walkthrough 17, R17-6).
      const std::string what = tr("sync (approval status)", "同步（查询审批状态）");
      HttpResponse r = call("/v1/approvals", {{"ids", ids}}, what);
      raise_for_status(r, what);
      for (const auto& req : r.body.value("requests", json::array())) by_id[req.value("id", std::int64_t{0})] = req;
    }
    const std::string me = rep_.meta("user"), device = rep_.device_id();
    for (const LoggedChange& w : waiting) {
      auto it = by_id.find(w.request);
      // A request the server does not know as this change's: its store was
      // restored from a backup taken before the request, and the id is gone or
      // numbers another's. Taken for this one, another's approval dropped the
      // edit; waiting for it, the edit waited for good (attacker review 12,
      // A12-2; walkthrough 12, R12-3). Pending again, it is sent after the pull.
      if (it == by_id.end() || it->second.value("record_id", "") != w.change.record_id ||
          it->second.value("requester", "") != me) {
        // Another device's: that one sends it again, not this one.
        if (!w.change.device.empty() && w.change.device != device) {
          rep_.mark_decided(w.change.change_id, true, "");
          continue;
        }
        if (std::string fresh = rep_.requeue_awaiting(w.change.change_id); !fresh.empty()) {
          to_rebase.push_back(std::move(fresh));
        }
        continue;
      }
      const std::string status = it->second.value("status", "");
      if (status == "pending") continue;
      const std::string by = it->second.value("decided_by", "");
      if (status == "approved") {
        rep_.mark_decided(w.change.change_id, true, "");
        ++report.approved;
      } else if (const std::string reason = it->second.value("reason", "");
                 status == "withdrawn" && (reason.empty() || reason == "restored" ||
                                           reason.rfind("superseded by ", 0) == 0)) {
        // The user's own restore undid the held delete, or their own later
        // request replaced this one: nothing to report. Their later edit of
        // the same fields is said (walkthrough 13, R13-14).
        rep_.mark_decided(w.change.change_id, true, "");
        if (reason == "superseded by a later edit") report.withdrawn_by_edit.push_back(w.request);
      } else {
        // Rejected, or withdrawn because the customer left the user's hands
        // (released, reassigned): the values typed are kept as refused.
        const std::string n = std::to_string(w.request);
        std::string why;
        if (status == "withdrawn") {
          const bool released = reason == "released to the public pool";
          const bool reassigned = reason.rfind("reassigned to ", 0) == 0;
          why = in_both("request #" + n + " withdrawn: the customer was " + reason,
                        "申请 #" + n + " 已撤回：客户" +
                       (released     ? std::string("已退回公海")
                        : reassigned ? "已转给 " + reason.substr(std::string("reassigned to ").size())
                                     : reason));
        } else {
          why = in_both("request #" + n + " rejected by " + by + ": " + reason, "申请 #" + n + " 被 " + by + " 驳回：" + reason);
        }
        rep_.mark_decided(w.change.change_id, false, why);
        ++report.rejected;
        ++report.turned_down;
        report.rejections.push_back(refusal_of(w, why));
      }
    }
  }

  // A salesperson's requests this device does not hold: awaiting here too.
  // Those sent from their other devices, so that every device of the user
  // shows them (status, customer show, history) and nobody types the change
  // again (walkthrough 17, R17-18); and this device's own that a restored
  // store holds pending again after their approval had taken them off the log
  // (walkthrough 18, R18-29).
  void adopt_own_requests() {
    if (rep_.meta("role") != "sales") return;  // others' edits are never held
    const std::string me = rep_.meta("user");
    const std::string what = tr("sync (approval status)", "同步（查询审批状态）");
    json after = 0;
    // A salesperson's list is their own requests; a few pages at most.
    for (int page = 0; page < 20; ++page) {
      HttpResponse r = call("/v1/approvals", {{"status", "pending"}, {"after", after}}, what);
      raise_for_status(r, what);
      for (const auto& req : r.body.value("requests", json::array())) {
        if (req.value("requester", "") != me) continue;
        Change c;
        c.change_id = req.value("change_id", "");
        c.record_id = req.value("record_id", "");
        c.collection = req.value("collection", "");
        const std::optional<Record> held = rep_.get(c.record_id);
        if (c.change_id.empty() || !held) continue;
        c.parent = held->parent;
        c.code = held->code;
        c.base_rev = req.value("base_rev", std::int64_t{0});
        c.device = req.value("device", "");
        c.author = me;
        c.fields = field_changes_from_json(req.value("fields", json::object()));
        c.op = Op::update;
        if (auto d = c.fields.find(kDeletedField); d != c.fields.end()) {
          c.op = d->second.new_value == json(true) ? Op::remove : Op::restore;
        }
        rep_.adopt_awaiting(c, req.value("id", std::int64_t{0}), req.value("created_at", ""));
      }
      if (!r.body.value("more", false)) break;
      after = r.body.value("next_after", json(0));
    }
  }

  // The requests a manager or admin may decide, counted at each sync and kept
  // for `kehu status` (meta requests_to_decide): the salesperson is told at every
  // sync that a change waits, and the one who decides it was told nothing
  // (walkthrough 19, R19-16).
  void count_requests_to_decide(SyncReport& report) {
    const std::string role = rep_.meta("role");
    if (role != "manager" && role != "admin") return;
    const std::string what = tr("sync (change requests to decide)", "同步（查询待审批申请）");
    json after = 0;
    std::size_t n = 0;
    while (n < SyncReport::kRequestsCounted) {
      HttpResponse r = call("/v1/approvals", {{"status", "pending"}, {"after", after}}, what);
      raise_for_status(r, what);
      n += r.body.value("requests", json::array()).size();
      if (!r.body.value("more", false)) break;
      after = r.body.value("next_after", json(0));
    }
    report.requests_to_decide = std::min(n, SyncReport::kRequestsCounted);
    rep_.set_meta("requests_to_decide", std::to_string(report.requests_to_decide));
  }

  // What the user needs to find a refused or held change again: the customer's
  // code, the fields it set, and why.
  SyncReport::Refusal refusal_of(const LoggedChange& lc, const std::string& why) {
    SyncReport::Refusal out;
    out.seq = lc.seq;
    out.reason = in_message_lang(why);
    out.request = lc.request;
    const Change& c = lc.change;
    out.collection = c.collection;
    out.code = rep_.customer_code_of(c);
    out.typed = typed_values(c);
    for (const auto& [key, value] : out.typed.items()) out.fields.push_back(key);
    return out;
  }

  // The changes the server holds for a manager's approval now.
  void list_held(SyncReport& report) {
    // Said in this sync's language, whatever the one that stored it (R12-8).
    for (const LoggedChange& lc : rep_.changes_in_state("awaiting")) {
      const std::string n = std::to_string(lc.request);
      report.held.push_back(
          refusal_of(lc, tr("awaiting approval (request #" + n + ")", "等待审批（申请 #" + n + "）")));
    }
  }

  // One pull answer, decoded.
  struct PulledPage {
    std::vector<PulledRecord> records;
    std::vector<Revision> revisions;
    std::vector<std::string> removed;
    std::string next_cursor;
    bool more = false, reset = false, restored = false;
    std::int64_t schema_version = -1;  // -1: not told
    std::optional<std::int64_t> server_hlc;
    std::string regions;  // regions_meta(): "" when the server sent none
    std::string protected_fields;  // the "protected" object as text; "" when not sent
  };

  // Fetches and decodes the page after `cursor`. Runs on the prefetch thread,
  // so it touches nothing but its own connection.
  // `wait`: seconds the server may hold it for news (SyncOptions::wait_seconds);
  // a wait the caller stops is a page with nothing new.
  PulledPage fetch_page(const std::string& cursor, int wait = 0) {
    const std::string what = tr("sync (receiving changes)", "同步（下载修改）");
    json request = {{"cursor", cursor}, {"limit", opts_.pull_page}};
    if (page_bytes_ > 0) request["max_bytes"] = page_bytes_;
    std::function<bool()> stop;
    if (wait > 0) {
      request["wait"] = wait;
      waited_ = true;
      if (opts_.waiting) opts_.waiting();
      stop = [this] {
        return (opts_.cancelled && opts_.cancelled()) || (opts_.stop_waiting && opts_.stop_waiting());
      };
    }
    // A connection that breaks while a page comes (a slow link the server
    // resets, attacker review 6, A6-3): the pages asked for from then on are a
    // quarter of the size, down to the server's floor of 64 KiB.
    HttpResponse r;
    // Another sync of this replica may run while this one waits (SyncLock).
    SyncLock* const let_go = wait > 0 ? lock_ : nullptr;
    if (let_go) let_go->release();
    struct Retake {
      SyncLock* lock;
      ~Retake() {
        if (lock) lock->acquire();
      }
    } retake{let_go};
    try {
      r = call(
          "/v1/pull", request, what, true,
          [this](json& body) {
            page_bytes_ =
                page_bytes_ == 0 ? kFirstSmallerPage : std::max<std::int64_t>(kSmallestPage, page_bytes_ / 4);
            body["max_bytes"] = page_bytes_;
          },
          stop);
    } catch (const Interrupted&) {
      if (opts_.cancelled && opts_.cancelled()) throw;  // the whole sync stops
      PulledPage nothing;
      nothing.next_cursor = cursor;
      return nothing;
    }
    raise_for_status(r, what);
    json& body = r.body;
    PulledPage page;
    page.next_cursor = body.value("next_cursor", cursor);
    page.more = body.value("more", false) && page.next_cursor != cursor;
    page.reset = body.value("reset", false);
    page.restored = page.reset && body.value("restored", false);
    if (auto v = body.find("schema_version"); v != body.end() && v->is_number_integer()) {
      page.schema_version = v->get<std::int64_t>();
    }
    if (auto v = body.find("server_hlc"); v != body.end() && v->is_number_integer()) {
      page.server_hlc = v->get<std::int64_t>();
    }
    for (auto& j : take_array(body, "records")) page.records.push_back(pulled_record(std::move(j)));
    for (const auto& j : take_array(body, "revisions")) {
      page.revisions.push_back(revision_from_json(j));
    }
    page.removed = body.value("removed", std::vector<std::string>{});
    page.regions = regions_meta(body);
    if (auto p = body.find("protected"); p != body.end() && p->is_object()) page.protected_fields = p->dump();
    return page;
  }

  // Pages are pipelined: the next page is fetched and decoded while this one is
  // stored, so the server's work, the decoding and the writes overlap. At most
  // two pages are in memory.
  void pull(SyncReport& report) {
    const std::string stored = rep_.meta("cursor");
    std::string cursor = stored.empty() ? "0" : stored;
    // Only the sync's first pull waits (a second one follows a rebase).
    const int wait = waited_ ? 0 : opts_.wait_seconds;
    std::future<PulledPage> next_page =
        async_in_callers_lang([this, cursor, wait] { return fetch_page(cursor, wait); });
    for (bool first = true;; first = false) {
      PulledPage page = next_page.get();
      // Another sync of this replica pulled while this one waited: what it
      // brought is stored already, and this page would go back before it.
      if (first && wait > 0 && rep_.meta("cursor") != stored) return;
      if (page.schema_version >= 0) schema_version_ = page.schema_version;
      if (page.more) {
        next_page = async_in_callers_lang([this, next = page.next_cursor] { return fetch_page(next); });
      }
      for (const auto& rev : page.revisions) {
        for (const auto& c : rev.conflicts) pulled_conflicts.emplace(rev.record_id, rev.rev, c.field);
        if (may_add_duplicates(rev)) arrived.push_back(rev.record_id);
      }
      if (page.restored && !report.server_restored) {
        report.server_restored = true;
        // What the device holds may be the only copy left of what the store
        // lost: kept, encrypted like the replica, before anything is dropped.
        std::string stamp = now_iso8601();
        stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char ch) { return ch == '-' || ch == ':'; }),
                    stamp.end());
        report.copy_before_restore = copy_before_restore_ = rep_.path() + ".before-restore-" + stamp;
        rep_.backup(report.copy_before_restore);
        // Every field: read with no keys, no value was kept, and every
        // customer differed afterwards (walkthrough 14, R14-8).
        rep_.for_each_record("customers", [&](const Record& r) {
          if (r.deleted || r.code.empty()) return;
          values_before_restore.emplace(r.id, std::make_pair(r.code, r.fields));
          // Never on the server (a new customer the push held back): not the store's to lose.
          if (r.rev == 0) return;
          held_before_restore.emplace(r.id, r.code);
        });
      }
      for (const auto& p : page.records) held_before_restore.erase(p.id);  // the restored store has it
      report.removed += page.removed.size();
      for (const auto& id : page.removed) {
        if (auto rec = rep_.get(id); rec && rec->collection == "customers" && !rec->code.empty()) {
          report.removed_codes.push_back(rec->code);
        }
      }
      if (cursor != "0") note_owner_changes(page, report);  // a first pull: none were held here
      report.merged += rep_.apply_pulled(page.records, page.revisions, page.next_cursor,
                                         page.removed, page.reset);
      if (page.server_hlc) rep_.observe_clock(*page.server_hlc);
      if (!page.regions.empty() && page.regions != rep_.meta(kRegionsMeta)) rep_.set_meta(kRegionsMeta, page.regions);
      if (!page.protected_fields.empty() && page.protected_fields != rep_.meta(kProtectedFieldsMeta)) {
        rep_.set_meta(kProtectedFieldsMeta, page.protected_fields);
      }
      report.pulled_records += page.records.size();
      report.pulled_revisions += page.revisions.size();
      if (opts_.counts) {
        opts_.counts(ProgressKind::pull_revisions, report.pulled_revisions, 0);
      } else {
        progress(tr("pulled " + std::to_string(report.pulled_revisions) + " revisions…",
                    "已拉取 " + std::to_string(report.pulled_revisions) + " 条修订…"));
      }
      if (!page.more) break;
      cursor = page.next_cursor;
    }
    // Not sent again: the restored store does not have them. One with an edit
    // not yet pushed leaves the device after the push (drop_vanished), which
    // refuses the edit.
    for (const auto& [id, code] : held_before_restore) {
      report.vanished_codes.push_back(code);
      vanished_.insert(code);
    }
  }

  // Customers whose owner another's hand changed to or from the user: returned
  // to the public pool, given to the user, or given to a colleague while still
  // in the user's territory (walkthrough 19, R19-15: a reassignment said nothing).
  void note_owner_changes(const PulledPage& page, SyncReport& report) {
    const std::string me = rep_.meta("user");
    if (me.empty() || page.reset) return;
    auto owner_of = [](const json& fields) {
      auto it = fields.find("owner");
      return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::map<std::string, std::string> last_author;
    for (const auto& rev : page.revisions) last_author[rev.record_id] = rev.author;
    for (const auto& p : page.records) {
      if (p.collection != "customers" || p.deleted) continue;
      const auto by = last_author.find(p.id);
      if (by == last_author.end() || by->second == me) continue;  // the user's own release or claim
      const std::optional<Record> held = rep_.get(p.id);
      const std::string was = held ? owner_of(held->fields) : std::string(), now = owner_of(p.fields);
      if (was == now) continue;
      if (was == me && now.empty()) {
        report.to_pool_codes.push_back(held->code);
      } else if (was == me) {
        report.reassigned_away.emplace_back(held->code, now);
      } else if (now == me) {
        report.reassigned_to_you.push_back(p.code.empty() && held ? held->code : p.code);
      }
    }
  }

  // Why an edit of `customer` (or of its follow-ups, orders, ...) is refused
  // when the restored store does not have the customer.
  std::string vanished_reason(const std::string& customer) const {
    const std::string copy = copy_before_restore_.empty() ? std::string() : " (" + copy_before_restore_ + ")";
    return in_both("the server no longer has " + customer + " for you: it was restored from a backup taken before " +
                  customer + " was added, reassigned to you or claimed; what you typed is kept here and in the copy "
                  "made before the restore" + copy,
              "服务器上已没有 " + customer + "（或它已不归你）：服务器从 " + customer + " 添加、转给你或被认领之前的备份恢复了；" +
                  "你输入的内容保留在本机，也在恢复前做的副本里" +
                  (copy_before_restore_.empty() ? "" : "（" + copy_before_restore_ + "）"));
  }

  // Once the sync has sent this device's edits again: the customers the
  // restored store does not have leave the device, as they left every other
  // (README, "Restore a backup"); what was typed on them stays refused in the
  // change log, with the restore's reason (walkthrough 17, R17-4: they stayed
  // on the device for good, unlike on a fresh one).
  void drop_vanished() {
    for (const auto& [id, code] : held_before_restore) rep_.forget_customer(id, vanished_reason(code));
    std::map<std::string, std::string>().swap(held_before_restore);
  }

  // Once the sync has sent this device's edits again: the customers that hold
  // other values than before the restore.
  void name_changed_by_restore(SyncReport& report) {
    if (values_before_restore.empty()) return;
    // Read as they were read before: the same folding of derived fields.
    std::set<std::string> same;
    rep_.for_each_record("customers", [&](const Record& r) {
      const auto before = values_before_restore.find(r.id);
      if (before != values_before_restore.end() && before->second.second == r.fields) same.insert(r.id);
    });
    for (const auto& [id, before] : values_before_restore) {
      if (!same.count(id) && !vanished_.count(before.first)) report.changed_by_restore.push_back(before.first);
    }
    std::map<std::string, std::pair<std::string, json>>().swap(values_before_restore);
  }

  // Copies the team's custom fields (custom_fields.h) when the pull said the
  // server's list is newer than ours. A server without custom fields says nothing.
  void refresh_schema() {
    if (schema_version_ < 0) return;
    const std::string mine = rep_.meta(kCustomFieldsMeta);
    const json local = mine.empty() ? json() : json::parse(mine, nullptr, /*allow_exceptions=*/false);
    if (custom_fields_version(local) == schema_version_) return;
    const std::string what = tr("schema", "读取字段定义");
    HttpResponse r = call("/v1/schema", json::object(), what);
    raise_for_status(r, what);
    rep_.set_meta(kCustomFieldsMeta, json{{"version", r.body.value("version", std::int64_t{0})},
                                          {"fields", r.body.value("fields", json::array())}}
                                         .dump());
  }

 private:
  void progress(const std::string& line) {
    if (opts_.progress) opts_.progress(line);
  }

  Replica& rep_;
  const SyncOptions& opts_;
  SyncLock* lock_;
  HttpClient http_;
  bool waited_ = false;  // the pull waited for news (SyncReport::waited)
  long wait_refused_s_ = 0;  // SyncReport::poll_after_s
  std::int64_t schema_version_ = -1;  // the server's custom-field list version; -1: not told
  // The byte cap pull pages are asked to keep under ("max_bytes"); 0: the server's.
  static constexpr std::int64_t kFirstSmallerPage = 1 << 20, kSmallestPage = 64 * 1024;
  std::int64_t page_bytes_ = 0;
};

}  // namespace

namespace {

// A login sends no token, so an answer that asks for one (or a 404) came from
// somewhere other than the login endpoint: the address is wrong, most often by
// a path after host:port (http://host:8443/kehu). Said so, instead of "check the
// password", which is right.
void check_login_reached(const HttpResponse& r, const std::string& server_url) {
  const bool asks_token = r.status == 401 && error_message(r).find("Authorization: Bearer") != std::string::npos;
  if (!asks_token && r.status != 404) return;
  std::string url = server_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const std::size_t scheme = url.find("://");
  const std::size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const std::string root = slash == std::string::npos ? url : url.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : url.substr(slash);
  const std::string guess = path.empty() ? "" : tr(" (an extra path " + path + "?)", "（多了路径 " + path + "？）");
  const std::string hint = path.empty() ? tr("; check the address and port", "；请检查地址和端口")
                                        : tr("; give the server's address, e.g. " + root, "；请给出服务器地址，如 " + root);
  throw Error(Errc::usage, tr("--server " + server_url + " is not a Kehu server's address: its login is not there" +
                                  guess + hint,
                              "服务器地址 " + server_url + " 不是 Kehu 服务器：那里没有登录入口" + guess + hint));
}

}  // namespace

void login(Replica& replica, const std::string& server_url, const std::string& user,
           const std::string& password, const SyncOptions& opts) {
  // A replica is one user's: it holds what that user may see and the edits they
  // made. Another user's login would push those edits under the new name and
  // pull on from the old user's cursor, leaving the new user's table incomplete.
  std::string holder = replica.meta(kReplicaUserMeta);
  if (holder.empty()) holder = replica.meta("user");  // a replica from before kReplicaUserMeta
  if (!holder.empty() && holder != user) {
    throw Error(Errc::validation,
                tr("this replica holds " + holder + "'s customers and edits, and a replica belongs to one user: "
                   "log in as " + holder + ", or give " + user + " a replica of their own "
                   "(`kehu --db OTHER.db init`, then log in there)",
                   "这个副本存放的是 " + holder + " 的客户和修改，一个副本只属于一个用户：请以 " + holder +
                       " 登录，或为 " + user + " 另建一个副本（`kehu --db 另一个文件.db init`，再在那里登录）"));
  }
  HttpClient http(server_url, opts.http);
  json body = {{"user", user}, {"password", password}, {"device", replica.device_id()}};
  // This device's proof of an earlier sign-in: past a lock of a shared address
  // (docs/protocol.md, "POST /v1/login"). Kept across logouts; only this
  // server's counts.
  std::string url = server_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (replica.meta("server") == url && !replica.meta(kDeviceCookieMeta).empty()) {
    body["device_cookie"] = replica.meta(kDeviceCookieMeta);
  }
  HttpResponse r = http.post("/v1/login", body);
  check_login_reached(r, server_url);
  raise_for_status(r, tr("login as " + user, "以 " + user + " 登录"), /*credentials=*/true);
  replica.batch([&] {
    if (replica.meta("server") != url) replica.set_meta("cursor", "0");  // a new server: pull it all
    replica.set_meta("server", url);
    replica.set_meta("user", user);
    replica.set_meta(kReplicaUserMeta, user);
    replica.set_meta("role", r.body.value("role", ""));
    replica.set_meta(kRegionsMeta, regions_meta(r.body));
    replica.set_meta("token", r.body.at("token").get<std::string>());
    replica.set_meta("token_expires", r.body.value("expires_at", ""));
    replica.set_meta(kDeviceCookieMeta, r.body.value("device_cookie", ""));
    replica.set_meta("ca_file", opts.http.ca_file);  // a login without one forgets the old one
  });
  if (r.body.contains("server_hlc")) replica.observe_clock(r.body["server_hlc"].get<std::int64_t>());
}

std::string logout(Replica& replica, const SyncOptions& opts) {
  const std::string server = replica.meta("server"), token = replica.meta("token");
  std::string note;
  if (token.empty()) {
    note = tr("not logged in", "未登录");
  } else {
    // One attempt, no retries: logging out must not hang on a server that is gone.
    try {
      HttpClient http(server, with_remembered_ca(replica, opts.http));
      http.set_token(token);
      HttpResponse r = http.post("/v1/logout", json::object());
      raise_for_status(r, tr("logout", "退出登录"), /*credentials=*/false, /*carries_edits=*/false);
    } catch (const Error& e) {
      note = tr(std::string("the server could not revoke the token (") + e.what() +
                    "); it is forgotten here and expires on the server at " +
                    (replica.meta("token_expires").empty() ? std::string("its expiry") : replica.meta("token_expires")),
                std::string("服务器未能注销登录状态（") + e.what() + "）；本机已清除，服务器上的登录状态将于" +
                    (replica.meta("token_expires").empty() ? std::string("到期时") : " " + replica.meta("token_expires") + " ") +
                    "失效");
    }
  }
  replica.batch([&] {
    // Whose data this is outlives the session (login checks it).
    if (replica.meta(kReplicaUserMeta).empty()) replica.set_meta(kReplicaUserMeta, replica.meta("user"));
    replica.set_meta("token", "");
    replica.set_meta("token_expires", "");
  });
  return note;
}

void change_password(Replica& replica, const std::string& current, const std::string& next,
                     const SyncOptions& opts) {
  HttpClient http(logged_in_server(replica), with_remembered_ca(replica, opts.http));
  http.set_token(replica.meta("token"));
  HttpResponse r = http.post("/v1/passwd", {{"password", current}, {"new_password", next}});
  // A refusal is about the current password typed: nothing local is at stake.
  raise_for_status(r, tr("password change for " + replica.meta("user"), "修改 " + replica.meta("user") + " 的密码"),
                   /*credentials=*/true, /*carries_edits=*/false);
  replica.batch([&] {
    replica.set_meta("token", r.body.at("token").get<std::string>());
    replica.set_meta("token_expires", r.body.value("expires_at", ""));
    if (r.body.contains("device_cookie")) replica.set_meta(kDeviceCookieMeta, r.body.value("device_cookie", ""));
  });
  if (r.body.contains("server_hlc")) replica.observe_clock(r.body["server_hlc"].get<std::int64_t>());
}

json request(Replica& replica, const SyncOptions& opts, const std::string& path, const json& body,
             const std::string& what) {
  Session s(replica, opts);
  HttpResponse r = s.call(path, body, what, /*in_sync=*/false);
  raise_for_status(r, what, /*credentials=*/false, /*carries_edits=*/false);
  s.observe(r.body);
  return r.body;
}

SyncReport sync(Replica& replica, const SyncOptions& opts) {
  SyncLock lock(replica.path());
  Session s(replica, opts, &lock);
  SyncReport report;
  s.lease_codes();
  std::vector<std::string> created_here = replica.pending_customer_creates();
  s.push(report);
  s.check_approvals(report);
  s.pull(report);
  report.waited = s.waited();
  report.poll_after_s = s.wait_refused_s();
  if (!s.to_rebase.empty()) {
    report.rebased = replica.rebase_changes(s.to_rebase);
    s.rebased_once_ = true;
    report.pushed -= s.answered_rebase;  // sent again: counted once
    s.push(report);
  }
  s.drop_vanished();
  s.adopt_own_requests();  // after the pull: a fresh device has the records now
  s.count_requests_to_decide(report);
  s.name_changed_by_restore(report);
  // Conflicts that arrived and are still open: a fresh device pulls the whole
  // history, and a conflict a later revision settled is nobody's to look at.
  if (!s.pulled_conflicts.empty()) {
    for (const OpenConflict& c : replica.open_conflicts()) {
      report.conflicts += s.pulled_conflicts.count({c.record_id, c.rev, c.conflict.field});
    }
  }
  std::set<std::tuple<std::string, std::int64_t, std::string>>().swap(s.pulled_conflicts);
  // 查重 across devices: what arrived and what was made here since the last sync.
  created_here.insert(created_here.end(), std::make_move_iterator(s.arrived.begin()),
                      std::make_move_iterator(s.arrived.end()));
  std::vector<std::string>().swap(s.arrived);
  for (const auto& p : replica.duplicates_involving(created_here, SyncReport::kDuplicatesReported,
                                                    &report.more_possible_duplicates)) {
    report.possible_duplicates.push_back(describe_pair(p));
  }
  s.list_held(report);
  s.refresh_schema();
  // The team's rules (kehu rules set, admin); a server without them keeps ours.
  HttpResponse rules = s.call("/v1/settings", json::object(), tr("the team's rules", "读取团队规则"));
  auto it = rules.body.find("churn_days");
  if (rules.status == 200 && it != rules.body.end() && it->is_number_integer()) {
    replica.set_churn_days(it->get<std::int64_t>());
  }
  // Stage probabilities and targets (reports.h); an older server sends neither.
  if (rules.status == 200 && rules.body.contains("stage_probability")) {
    store_stage_probabilities(replica, rules.body["stage_probability"]);
  }
  if (rules.status == 200 && rules.body.contains("targets")) {
    store_sales_targets(replica, rules.body["targets"]);
  }
  replica.set_meta("last_sync", now_iso8601());
  return report;
}

}  // namespace kehu::sync
