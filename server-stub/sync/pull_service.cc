#include "pull_service.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "access_policy.h"
#include "crypto.h"
#include "hash_chain.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "record_state_codec.h"
#include "schema_service.h"
#include "scope_index.h"
#include "env_setting.h"
#include "server_config.h"
#include "settings.h"

namespace kehu::server {

namespace {

// The cursor: "SEQ", "SEQ.SCOPE" or "SEQ.SCOPE.PART", each with "-TAG" after
// it: the seq of the last revision sent, the user's scope version it was sent
// under (absent = 0), and the timeline_tag of the revision at SEQ.
// The digits of a TAG.
constexpr std::size_t kTagDigits = 16;

struct Cursor {
  std::int64_t seq = 0;
  std::int64_t scope = 0;
  // > 0: the previous page ended inside the package of the first revision after
  // `seq` (a customer moved into view, its children sent in parts): this many of
  // its children were sent already.
  std::int64_t part = 0;
  std::string tag;  // "" in cursors of earlier servers
};

// The start of the hash of the revision at `seq` ("" when there is none): what
// ties a cursor to the store's timeline. A store restored from a backup and
// written on numbers its revisions again from the backup's end, so a device's
// cursor from before the restore names a seq whose revision is another one, or
// none (attacker review 10, A10-3: only a cursor past the end was noticed).
// It is keyed (settings::cursor_tag_key): the hash itself, whose first digits
// it was, let a reader whose masked values were the only unknown of a
// revision guess them, 10,000 tries for a pool phone (attacker review 13, A13-7).
std::string timeline_tag(StoreTxn& txn, const std::string& key, std::int64_t seq) {
  if (seq <= 0) return {};
  const auto at = txn.revisions_since(seq - 1, 1);
  if (at.empty() || at.front().seq != seq) return {};
  return crypto::sha256_hex(key + "\n" + at.front().hash).substr(0, kTagDigits);
}

bool parse_number(std::string_view s, std::int64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

Cursor parse_cursor(const json& body) {
  auto it = body.find("cursor");
  if (it == body.end() || it->is_null()) return {};
  // The protocol sends it as a string; accept the integer a careless client
  // might send, since it cannot mean anything else.
  if (it->is_number_integer()) {
    Cursor c;
    c.seq = std::max<std::int64_t>(0, it->get<std::int64_t>());
    return c;
  }
  if (!it->is_string()) throw Error(Errc::protocol, tr("\"cursor\" must be a string", "\"cursor\" 必须是字符串"));
  const std::string s = it->get<std::string>();
  if (s.empty()) return {};
  Cursor c;
  std::string_view v(s);
  if (const auto dash = v.find('-'); dash != std::string_view::npos) {
    c.tag = std::string(v.substr(dash + 1));
    v = v.substr(0, dash);
    // A TAG of an earlier server (12 digits of the hash) is never compared, not
    // even to reset: that would answer guesses about the hash. The next page
    // carries a keyed one.
    if (c.tag.size() != kTagDigits) c.tag.clear();
  }
  const auto dot = v.find('.');
  const auto dot2 = dot == std::string_view::npos ? dot : v.find('.', dot + 1);
  const bool ok = parse_number(v.substr(0, dot), c.seq) &&
                  (dot == std::string_view::npos ||
                   parse_number(v.substr(dot + 1, dot2 == std::string_view::npos ? dot2 : dot2 - dot - 1), c.scope)) &&
                  (dot2 == std::string_view::npos || parse_number(v.substr(dot2 + 1), c.part));
  if (!ok) throw Error(Errc::protocol, tr("\"cursor\" \"" + s + "\" is not a cursor this server made",
                                    "\"cursor\"“" + s + "”不是本服务器生成的游标"));
  return c;
}

// Revisions read from the store at a time while a pull page is built.
constexpr std::int64_t kPullChunk = 200;
// A customer back in scope brings at most this many older revisions (its own and
// its children's), the newest, and at most a page of them: past that, the older
// ones stay on the server (GET /v1/records/{id}/history pages them), so that a
// long history cannot make one page huge (attacker review 4, N1, N5).
constexpr std::size_t kMaxResentRevisions = 1000;

std::int64_t parse_limit(const json& body) {
  auto it = body.find("limit");
  if (it == body.end() || it->is_null()) return config::kDefaultPullLimit;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
    throw Error(Errc::protocol, tr("\"limit\" must be a positive integer", "\"limit\" 必须是正整数"));
  }
  return std::min(it->get<std::int64_t>(), config::kMaxPullLimit);
}

// The smallest byte cap a device may ask pages to keep under.
constexpr std::size_t kMinPullBytes = 64 * 1024;

// The page's byte cap: the server's, or less when the device asks ("max_bytes":
// a slow link whose downloads break past some size, attacker review 6, A6-3),
// never under kMinPullBytes.
std::size_t parse_max_bytes(const json& body, std::size_t server_cap) {
  auto it = body.find("max_bytes");
  if (it == body.end() || it->is_null()) return server_cap;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
    throw Error(Errc::protocol, tr("\"max_bytes\" must be a positive integer", "\"max_bytes\" 必须是正整数"));
  }
  const auto asked = static_cast<std::size_t>(it->get<std::int64_t>());
  return std::min(server_cap, std::max(asked, kMinPullBytes));
}

// JSON text of a value; invalid UTF-8 (only a damaged store could hold it) is
// replaced, as in every other answer (http_server.cc write_json).
std::string text_of(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A record as pull sends it. Its values go out as stored, unparsed, unless the
// role and access cut or mask some of them.
std::string record_text(const RecordView& v, Role role, Access access, const Schema& schema) {
  std::string fields = v.fields_text;
  const CollectionDef* coll = schema.find(v.collection);
  if (coll != nullptr && AccessPolicy::redacts(role, access)) {
    json parsed = parse_stored(fields, "record fields");
    AccessPolicy::redact_fields(role, *coll, parsed);
    if (access == Access::masked) AccessPolicy::mask_fields(*coll, parsed);
    fields = text_of(parsed);
  }
  return R"({"id":)" + text_of(v.id) + R"(,"collection":)" + text_of(v.collection) + R"(,"code":)" +
         text_of(v.code) + R"(,"parent":)" + text_of(v.parent) + R"(,"rev":)" +
         std::to_string(v.rev) + R"(,"deleted":)" + (v.deleted ? "true" : "false") +
         R"(,"old_codes":)" + text_of(v.old_codes) + R"(,"fields":)" + fields + "}";
}

// A revision as pull sends it: its stored canonical text with the chain's two
// hashes added, without building a document when nothing of it is cut for the
// role (the text is checked, since it goes into the answer as it is). Nothing
// when it is damaged (wire_revision_or_skip).
std::optional<std::string> revision_text(const StoredRevision& r) {
  const std::string& body = r.body;
  if (body.size() < 3 || body.front() != '{' || body.back() != '}' || !json::accept(body)) {
    const auto j = wire_revision_or_skip(r);
    if (!j) return std::nullopt;
    return text_of(*j);
  }
  return body.substr(0, body.size() - 1) + R"(,"prev_hash":)" + text_of(r.prev_hash) +
         R"(,"hash":)" + text_of(r.hash) + "}";
}

std::optional<json> revision_json(const StoredRevision& r, Role role, Access access, const Schema& schema) {
  std::optional<json> j = wire_revision_or_skip(r);
  if (!j) return j;
  AccessPolicy::redact_revision(role, access, *j, schema);
  AccessPolicy::strip_chain(role, *j);
  return j;
}

// Whether a revision changed a field that decides a customer's scope.
bool moves_scope(const json& revision) {
  if (revision.value("collection", std::string()) != "customers") return false;
  auto it = revision.find("changes");
  return it != revision.end() && changes_scope(*it);
}

// The scope moves of one customer after a cursor a page reads at most, newest
// first (a few bytes each): past them, older moves are not looked at.
constexpr std::int64_t kMaxScopeMoves = 10000;

// Scope decisions for one pull page, on the records' current state and the
// scope index (scope_index.h), each customer looked up once.
class ScopeView {
 public:
  ScopeView(StoreTxn& txn, const Session& session) : txn_(txn), session_(session) {}

  // The record with its values as stored text (RecordView::fields_text).
  const std::optional<RecordView>& record(const std::string& id) {
    auto it = records_.find(id);
    if (it == records_.end()) it = records_.emplace(id, txn_.find_record_text(id)).first;
    return it->second;
  }

  // The customer a record belongs to: itself, or its parent.
  std::string customer_of(const RecordView& v) const {
    return v.collection == "customers" ? v.id : v.parent;
  }

  Access access_to_customer(const std::string& customer_id) {
    if (AccessPolicy::sees_everything(session_.role)) {
      return session_.role == Role::admin ? Access::write : Access::read;
    }
    auto it = access_.find(customer_id);
    if (it != access_.end()) return it->second;
    const auto& c = record(customer_id);
    Access a =
        c ? AccessPolicy::customer_access(session_, parse_stored(c->fields_text, "record fields"))
          : Access::none;
    access_.emplace(customer_id, a);
    return a;
  }

  // Whether a customer the session cannot see now was in its scope at some
  // moment after `cursor`: at the cursor or right after a later move. Only then
  // may the device hold it (pull sent it or could have), so only then does
  // "removed" name it; the id of a customer that was never in scope is not the
  // device's to learn. From the scope index: the values at the cursor and
  // after each move since (the newest kMaxScopeMoves).
  bool in_scope_since(const std::string& customer_id, std::int64_t cursor) {
    const Moves& m = moves_since(customer_id, cursor);
    // Past the window the device may hold it: named (attacker review 8, A8-9).
    return !m.complete || (m.at_cursor && *m.at_cursor != Access::none) ||
           std::any_of(m.after.begin(), m.after.end(), [](const auto& move) { return move.second != Access::none; });
  }

  // The customer's last move after `cursor` that raised the session's access
  // to it (out of scope or masked before, more after), or masked it (into the
  // pool): the move at which the device may lack the customer's children, or
  // hold them unmasked, and gets them (its package).
  struct Raise {
    std::int64_t seq = 0;  // 0: none
    // The lowest access the device may have held before it: at the cursor or
    // after any move since. The device may have dropped the customer's
    // history then - told "removed" on an earlier page - although its access
    // at the cursor was more (attacker review 8, A8-8).
    Access before = Access::none;
  };
  // None when no move since the cursor raised it: a move within the scope, or
  // in the pool, changes nothing the device holds (attacker review 7, A7-1:
  // every move brought the package again). A customer made after the cursor
  // has none either: its children's revisions all come in the pull.
  Raise last_raise(const std::string& customer_id, std::int64_t cursor) {
    const Moves& m = moves_since(customer_id, cursor);
    Raise masked;  // the newest move into the pool
    // Made after the cursor: every revision of it and of its children comes in
    // the pull (attacker review 8, A8-6: its children came twice).
    if (!m.at_cursor && m.complete) return {};
    for (std::size_t i = 0; i < m.after.size(); ++i) {
      const bool oldest = i + 1 == m.after.size();
      if (oldest && !m.complete) break;  // its before lies past what was read
      const std::optional<Access> before = oldest ? m.at_cursor : std::optional<Access>(m.after[i + 1].second);
      if (!before) continue;
      // A move into the pool (write -> masked) with no raise since the cursor
      // brings the package too: the device holds the children as it read
      // them, phones unmasked, and gets them again masked (attacker review 10,
      // A10-7). After a raise the package goes with the raise, with the
      // children as they are now (masked) and the history the device may lack:
      // taken to the later move into the pool, it lost that history when a
      // page ended between the two (attacker review 11, A11-3).
      if (m.after[i].second == Access::masked && Access::masked < *before && masked.seq == 0) {
        masked = {m.after[i].first, *before};
      }
      if (!(*before < m.after[i].second)) continue;
      // What the device may lack is decided by the lowest access it may have
      // held at any moment before the raise, not just before it: in the pool,
      // claimed, in the pool again, its last raise is masked -> write, yet the
      // device may have held nothing at its cursor (attacker review 10, A10-5).
      Access lowest = *before;
      for (std::size_t j = i + 1; j < m.after.size(); ++j) lowest = std::min(lowest, m.after[j].second);
      lowest = !m.complete ? Access::none : std::min(lowest, m.at_cursor.value_or(Access::none));
      return {m.after[i].first, lowest};
    }
    // Past the window a raise may lie further back: the package goes with the
    // newest move, the device may lack it and its history (attacker review 8,
    // A8-4). (A page that reaches the newest move may find the window
    // complete and no raise in it, so the package may never come: attacker
    // review 9, A9-1, open. A package at every page's first move would let
    // 10,001 moves cost a page per move, as A5-9 did.)
    if (!m.complete && !m.after.empty()) return {m.after.front().first, Access::none};
    return masked;
  }

 private:
  // The session's access to a customer at a cursor (none when it did not
  // exist) and after each of its moves since, newest first.
  struct Moves {
    std::optional<Access> at_cursor;
    std::vector<std::pair<std::int64_t, Access>> after;
    bool complete = true;  // every move since the cursor was read
  };
  const Moves& moves_since(const std::string& customer_id, std::int64_t cursor) {
    auto it = moves_.find(customer_id);
    if (it != moves_.end()) return it->second;
    std::map<std::string, Access> decided;  // by values: a few distinct ones, parsed once
    const auto access = [&](const std::string& values) {
      auto d = decided.find(values);
      if (d == decided.end()) {
        d = decided.emplace(values, AccessPolicy::customer_access(session_, parse_stored(values, "scope values")))
                .first;
      }
      return d->second;
    };
    Moves m;
    if (const auto then = txn_.scope_at(customer_id, cursor)) m.at_cursor = access(*then);
    const auto since = txn_.scope_moves_after(customer_id, cursor, kMaxScopeMoves + 1);
    m.complete = static_cast<std::int64_t>(since.size()) <= kMaxScopeMoves;
    for (std::size_t i = 0; i < since.size() && i < static_cast<std::size_t>(kMaxScopeMoves); ++i) {
      m.after.emplace_back(since[i].seq, access(since[i].values));
    }
    return moves_.emplace(customer_id, std::move(m)).first->second;
  }

  StoreTxn& txn_;
  const Session& session_;
  std::map<std::string, std::optional<RecordView>> records_;
  std::map<std::string, Access> access_;
  std::map<std::string, Moves> moves_;
};

}  // namespace

PullService::PullService(Store& store) : store_(store), max_bytes_(config::kMaxPullBytes) {
  read_positive<std::size_t>("KEHU_PULL_MAX_BYTES", max_bytes_, std::size_t{1} << 30);
}

PullPage PullService::pull(const Session& session, const json& body, std::int64_t server_hlc) {
  Cursor cursor = parse_cursor(body);
  const std::int64_t limit = parse_limit(body);
  const std::size_t page_bytes = parse_max_bytes(body, max_bytes_);
  // The user's role or regions changed since this cursor was made: what the
  // device holds may no longer be its scope. Send the scope again from the start
  // and tell the device to drop what it has first.
  bool reset = cursor.seq > 0 && cursor.scope != session.scope_version;
  auto txn = store_.begin(TxnMode::read);
  const std::string tag_key = settings::cursor_tag_key(*txn);
  // A cursor past the store's last revision was made by this server before the
  // store was restored from a backup: the device holds what the store no
  // longer has and would skip what is written until the numbering passes it
  // (attacker review 9, A9-8). It starts again as a changed scope does.
  // Nor may it name another revision than the one it was made at: the
  // restored store's numbering passed it (A10-3).
  const bool restored = cursor.seq > 0 && (cursor.seq >= txn->next_seq() ||
                                           (!cursor.tag.empty() && timeline_tag(*txn, tag_key, cursor.seq) != cursor.tag));
  reset = reset || restored;
  if (reset) {
    const std::int64_t scope_version = cursor.scope;
    cursor = Cursor{};
    cursor.scope = scope_version;
  }

  ScopeView scope(*txn, session);
  const json custom_fields = custom_field_list(*txn);
  const auto schema = store_schema(*txn);
  // Built as text: the stored values and revisions go out without a parse
  // unless the role needs some of them cut (AccessPolicy::redacts) or scope
  // decisions read them.
  const bool per_customer = !AccessPolicy::sees_everything(session.role);
  std::string records, revisions;
  json removed = json::array();
  std::set<std::string> sent, gone, packaged;
  auto append = [](std::string& list, const std::string& item) {
    if (!list.empty()) list += ',';
    list += item;
  };
  auto send_record = [&](const RecordView& v, Access access) {
    if (sent.insert(v.id).second) append(records, record_text(v, session.role, access, *schema));
  };
  auto bytes = [&] { return records.size() + revisions.size(); };
  // The page is read from the store in chunks and ends at `limit` revisions or
  // once the answer passes page_bytes, whichever comes first: a page of 5000
  // revisions near the text limit was 192 MB in memory at once. Everything the
  // page carries counts: a moved customer's children and resent history too
  // (N5: they came after the check, 12-24 MB pages of one revision each).
  std::int64_t next = cursor.seq, taken = 0, part = 0;
  bool more = false;
  std::vector<StoredRevision> chunk;
  auto full = [&] { return taken >= limit || bytes() >= page_bytes; };
  for (;;) {
    if (full()) {
      more = !txn->revisions_since(next, 1).empty();
      break;
    }
    if (chunk.empty()) {
      chunk = txn->revisions_since(next, std::min<std::int64_t>(limit - taken, kPullChunk));
      if (chunk.empty()) break;
      std::reverse(chunk.begin(), chunk.end());  // taken from the back, oldest first
    }
    const StoredRevision r = std::move(chunk.back());
    chunk.pop_back();
    const std::int64_t before_r = next;
    const bool first_of_page = taken == 0;
    next = r.seq;
    ++taken;
    const auto& view = scope.record(r.record_id);
    if (!view) continue;  // cannot happen: a revision always saves its record
    const std::string customer = scope.customer_of(*view);
    const Access access = scope.access_to_customer(customer);
    if (!per_customer && !AccessPolicy::redacts(session.role, access)) {
      if (const auto text = revision_text(r)) append(revisions, *text);
      send_record(*view, access);
      continue;
    }
    std::optional<json> parsed = wire_revision_or_skip(r);
    if (!parsed) {
      if (access != Access::none) send_record(*view, access);
      continue;
    }
    json& wire = *parsed;
    const bool moved = moves_scope(wire);
    if (access == Access::none) {
      // The device may hold the customer from before this change: tell it to drop it.
      if (moved && !gone.count(customer)) {
        gone.insert(customer);
        if (scope.in_scope_since(customer, cursor.seq)) removed.push_back(customer);
      }
      // A child moved to a customer out of sight: the device may hold it under
      // its old customer, which it may see; it drops it (attacker review 5,
      // A5-12: it stayed there for good).
      const CollectionDef* coll = schema->find(view->collection);
      if (coll && !coll->parent_field.empty() && !gone.count(r.record_id)) {
        const json& changes = wire.value("changes", json::object());
        const json& to = changes.is_object() && changes.contains(coll->parent_field) ? changes[coll->parent_field]
                                                                                      : json();
        const std::string old = to.is_object() && to.value("old", json()).is_string() ? to["old"].get<std::string>()
                                                                                       : std::string();
        const bool held = !old.empty() && (scope.access_to_customer(old) != Access::none ||
                                           scope.in_scope_since(old, cursor.seq));
        if (held) {
          gone.insert(r.record_id);
          removed.push_back(r.record_id);
        }
      }
      continue;
    }
    // A customer that moves (back) into the scope, or out of the pool into the
    // user's hands, brings its package once per page however often it moves in
    // the page's range (N5): its children's records, whose own revisions may all
    // lie before the cursor, and - when the device held it with less access at
    // the cursor (it dropped its revisions when it left, or holds them masked) -
    // its history before the cursor, as a fresh device pulls it.
    // Only its last move since the cursor that raised the user's access brings
    // it (access is the customer's now, so the device keeps it from then on):
    // two customers with large packages flipping city in turn made every page
    // carry one revision (attacker review 5, A5-9), and a move within the scope
    // sent the whole package again to every device that held it (A7-1).
    const ScopeView::Raise raise =
        moved && per_customer && !packaged.count(customer) ? scope.last_raise(customer, cursor.seq) : ScopeView::Raise{};
    if (raise.seq == r.seq) {
      packaged.insert(customer);
      const std::int64_t first_child = first_of_page ? cursor.part : 0;
      std::string pkg_revisions, pkg_records;
      std::vector<std::string> pkg_ids;
      if (first_child == 0 && cursor.seq > 0 && raise.before < access && raise.before <= Access::masked) {
        // Newest first across the customer and its children: past 1000
        // revisions or a page, the newest that fit go and the older ones stay
        // on the server (GET /v1/records/{id}/history). Collected child by
        // child, the newest children's were the ones left out (A10-4).
        std::vector<StoredRevision> older;
        std::size_t older_bytes = 0;
        for (std::int64_t b = cursor.seq + 1; older.size() <= kMaxResentRevisions && older_bytes <= page_bytes;) {
          std::vector<StoredRevision> p = txn->customer_revisions_before(customer, b, kPullChunk);
          if (p.empty()) break;
          b = p.back().seq;
          for (auto& o : p) {
            older_bytes += o.body.size();
            older.push_back(std::move(o));
          }
        }
        const std::size_t room = page_bytes - std::min(page_bytes, bytes());
        if (older_bytes > room && bytes() > 0) {
          // Not in what is left of this page, but maybe in a page of its own:
          // the page ends before this revision, and the next one starts with
          // it (attacker review 8, A8-1: the history was left out at the end
          // of a full page).
          next = before_r;
          more = true;
          break;
        }
        std::vector<std::string> texts;
        std::size_t texts_bytes = 0;
        for (const auto& o : older) {
          if (texts.size() >= kMaxResentRevisions || texts_bytes + o.body.size() > room) break;
          std::optional<json> w = revision_json(o, session.role, access, *schema);
          if (!w) continue;
          texts_bytes += o.body.size();
          texts.push_back(text_of(*w));
        }
        // Oldest first (the device applies a page in seq order anyway).
        for (auto t = texts.rbegin(); t != texts.rend(); ++t) append(pkg_revisions, *t);
      }
      // Resumed after the place of the last child sent, not at a position in
      // the list: a child moved away between two pages shifted the list, and
      // the device never got the one after it (attacker review 5, A5-11).
      const std::vector<StoreTxn::ChildRef> children = txn->children_after(customer, first_child);
      std::int64_t last_place = first_child;
      bool cut = false;
      for (const auto& [child, place] : children) {
        const std::optional<RecordView>* c = sent.count(child) ? nullptr : &scope.record(child);
        if (!c || !*c) {
          last_place = place;  // sent already in this page, or gone
          continue;
        }
        const std::string text = record_text(**c, session.role, access, *schema);
        // At least one child per page, so that a package always moves on (its
        // history then goes no more: the next page's cursor has a part).
        const bool page_has_some = bytes() > 0 || !pkg_records.empty();
        if (page_has_some && bytes() + pkg_revisions.size() + pkg_records.size() + text.size() > page_bytes) {
          cut = true;
          break;
        }
        append(pkg_records, text);
        pkg_ids.push_back(child);
        last_place = place;
      }
      if (cut && !first_of_page) {
        // The package does not fit in what is left of this page: the page ends
        // before this revision, and the next one starts with it.
        next = before_r;
        more = true;
        break;
      }
      for (auto& id : pkg_ids) sent.insert(std::move(id));
      if (!pkg_revisions.empty()) append(revisions, pkg_revisions);
      if (!pkg_records.empty()) append(records, pkg_records);
      if (cut) {
        // The first revision of the page brings more children than a page holds:
        // they go in parts, the cursor staying before the revision until all went.
        next = before_r;
        part = last_place;
        more = true;
        break;
      }
    }
    AccessPolicy::redact_revision(session.role, access, wire, *schema);
    AccessPolicy::strip_chain(session.role, wire);
    append(revisions, text_of(wire));
    send_record(*view, access);
  }
  std::string next_cursor = std::to_string(next);
  if (session.scope_version != 0 || part > 0) next_cursor += "." + std::to_string(session.scope_version);
  if (part > 0) next_cursor += "." + std::to_string(part);
  if (const std::string tag = next == cursor.seq && !cursor.tag.empty() ? cursor.tag : timeline_tag(*txn, tag_key, next);
      !tag.empty()) {
    next_cursor += "-" + tag;
  }
  PullPage page;
  page.news = !records.empty() || !revisions.empty() || !removed.empty() || more || reset || restored;
  page.next_cursor = next_cursor;
  // The user's regions as they are now: the device checks an edit that would
  // take a customer out of them (walkthrough 8, R8-11). What a sales user's
  // edit must wait for a manager for: the device says so before the edit is
  // sent (walkthrough 12, R12-10).
  page.context = R"(,"schema_version":)" + text_of(custom_fields["version"]) + R"(,"regions":)" +
                 text_of(json(session.regions)) + R"(,"protected":)" + text_of(settings::all_protected_fields(*txn));
  std::string& out = page.text;
  out = R"({"records":[)" + records + R"(],"revisions":[)" + revisions + R"(],"removed":)" + text_of(removed) +
        R"(,"next_cursor":)" + text_of(next_cursor) + R"(,"more":)" + (more ? "true" : "false") + page.context;
  if (reset) out += R"(,"reset":true)";
  // The device tells its user why it holds less than before (walkthrough 11, R11-5).
  if (restored) out += R"(,"restored":true)";
  out += R"(,"server_hlc":)" + std::to_string(server_hlc) + "}";
  return page;
}

int PullService::parse_wait(const json& body) {
  auto it = body.find("wait");
  if (it == body.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
    const std::string shown = it->dump().substr(0, 40);
    throw Error(Errc::protocol, tr("\"wait\" must be a whole number of seconds, 0 or more, not " + shown,
                                   "\"wait\" 必须是 0 或更大的整数秒，而不是 " + shown));
  }
  return static_cast<int>(std::min<std::int64_t>(it->get<std::int64_t>(), config::kMaxPullWaitSeconds));
}

json PullService::history(const Session& session, std::string_view record_id, std::int64_t limit,
                          std::int64_t before) {
  limit = std::clamp<std::int64_t>(limit, 1, config::kMaxPullLimit);
  auto txn = store_.begin(TxnMode::read);
  const auto no_record = [&] {
    return Error(Errc::not_found, tr("no record " + std::string(record_id), "找不到记录 " + std::string(record_id)));
  };
  // Scope first, before any revision is read: a record out of scope costs what
  // an unknown id costs, and answers the same (N3: its history was read first).
  ScopeView scope(*txn, session);
  const auto& view = scope.record(std::string(record_id));
  if (!view) throw no_record();
  const Access access = scope.access_to_customer(scope.customer_of(*view));
  if (access == Access::none) throw no_record();  // scope is not probeable
  const auto schema = store_schema(*txn);
  // Read a chunk at a time; the page ends at `limit` revisions or once its
  // revisions pass max_bytes_, as a pull page does (N9: ?limit=5000 of large
  // revisions was a 140 MB answer). At least one revision per page.
  json out = json::array();
  std::size_t bytes = 0;
  std::int64_t next_before = before > 0 ? before : std::numeric_limits<std::int64_t>::max();
  bool more = false;
  for (;;) {
    const std::int64_t want = std::min<std::int64_t>(limit - static_cast<std::int64_t>(out.size()), kPullChunk);
    if (want <= 0 || (!out.empty() && bytes >= max_bytes_)) {
      more = !txn->revisions_before(record_id, next_before, 1).empty();
      break;
    }
    const std::vector<StoredRevision> revs = txn->revisions_before(record_id, next_before, want);
    for (const auto& r : revs) {
      if (!out.empty() && bytes + r.body.size() > max_bytes_) {
        bytes = max_bytes_;  // full: the next chunk is not read
        break;
      }
      bytes += r.body.size();
      next_before = r.seq;
      if (auto j = revision_json(r, session.role, access, *schema)) out.push_back(std::move(*j));
    }
    if (revs.empty()) break;
  }
  json answer = {{"revisions", std::move(out)}, {"more", more}};
  if (more) answer["before"] = next_before;
  return answer;
}

}  // namespace kehu::server
