// Tuning constants of kehu-server, together in one place, each with its reason
// (the model is LiteCore's ReplicatorTuning.hh). Change them here, nowhere else.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kehu/customer_code.h"
#include "kehu/secret_rules.h"

namespace kehu::server::config {

// Name of the store file inside --data DIR.
inline constexpr const char* kStoreFileName = "kehu-server.db";

// A token lives 30 days (docs/protocol.md): long enough that a salesperson who
// syncs weekly from the road is not asked for a password every trip, short enough
// that a lost laptop's token dies on its own. `serve` reads an override from
// KEHU_TOKEN_TTL_SECONDS (auth_settings.h), so tests can see a token expire.
inline constexpr std::int64_t kTokenLifetimeSeconds = 30LL * 24 * 3600;

// 256 random bits per token (docs/protocol.md): unguessable; only the SHA-256 is stored.
inline constexpr std::size_t kTokenBytes = 32;
// A user's live sign-ins: a login past it ends the one that expires first.
// Each login added a 30-day row, without limit (attacker review 13, A13-11).
inline constexpr std::int64_t kMaxTokensPerUser = 100;

// PBKDF2-HMAC-SHA256 work factor for new passwords: OWASP's 2023 floor is 600k for
// SHA-256, but logins here are rare (one per 30 days per device) and the server is a
// small box; 120k keeps a login near 50 ms. Stored per hash, so it can be raised
// later without invalidating existing passwords. Sanitizer and fuzz builds, never
// shipped, set fewer (CMakeLists.txt), as for the replica's key.
#ifndef KEHU_PASSWORD_KDF_ITER
#define KEHU_PASSWORD_KDF_ITER 120000
#endif
inline constexpr int kPbkdf2Iterations = KEHU_PASSWORD_KDF_ITER;
inline constexpr std::size_t kSaltBytes = 16;
// NIST SP 800-63B's floor for a memorised secret chosen by the user, counted in
// characters (UTF-8 code points), not bytes; the rule itself, with its list of
// common passwords, is core's (kehu/secret_rules.h), shared with the CLI.
inline constexpr std::size_t kMinPasswordLength = kehu::kMinSecretChars;
inline constexpr std::size_t kPasswordHashBytes = 32;

// Login throttling (login_throttle.h, docs/protocol.md "429 throttled"). Five wrong
// passwords for one name within 15 minutes lock the name for 15 minutes, then 30,
// 60, ... at most 4 hours: a guesser gets a few dozen tries a day, a person who
// mistypes a few times is not locked. An address gets 20 (an office behind one
// NAT address shares it). The table holds at most 10000 names and addresses
// (about 2 MB). `serve` reads overrides from KEHU_LOGIN_MAX_FAILURES,
// KEHU_LOGIN_MAX_ADDRESS_FAILURES, KEHU_LOGIN_WINDOW_SECONDS and
// KEHU_LOGIN_LOCK_SECONDS (auth_settings.h), so tests need not wait 15 minutes.
inline constexpr int kLoginMaxUserFailures = 5;
inline constexpr int kLoginMaxAddressFailures = 20;
inline constexpr std::int64_t kLoginFailureWindowSeconds = 15 * 60;
inline constexpr std::int64_t kLoginLockSeconds = 15 * 60;
inline constexpr std::int64_t kLoginMaxLockSeconds = 4 * 3600;
inline constexpr std::size_t kLoginThrottleMaxEntries = 10000;

// Request bodies above 32 MiB are refused with 413 (docs/protocol.md). A push of
// 1000 changes with long notes is well under 2 MiB; the limit only stops abuse.
// It holds for the bytes sent and again for the inflated bytes of a gzip,
// deflate or br body (body_decoder.h): a 199 KB gzip body inflates to 200 MiB.
inline constexpr std::size_t kMaxBodyBytes = 32u * 1024 * 1024;

// The most JSON values one request body may hold (counted before parsing: each
// opening bracket, comma and colon). A push of 1000 changes of 30 fields each is
// about 100,000; 300,000 parse into some 30 MB. Each value is charged
// kJsonValueBytes to the body budget (below) while its request is handled.
inline constexpr std::size_t kMaxJsonValues = 300000;
inline constexpr std::size_t kJsonValueBytes = 100;
// After a request that held more than this, the freed memory goes back to the
// system (malloc_trim) instead of staying with the process.
inline constexpr std::size_t kTrimAfterBytes = 16u * 1024 * 1024;

// Request bodies the whole process holds at once, as sent plus as inflated
// (body_decoder.h BodyBudget): eight of the largest at a time; more are
// answered 503 busy. Everyday pushes are kilobytes.
inline constexpr std::size_t kMaxBodyBytesInFlight = 256u * 1024 * 1024;
// A body above 1 MiB is charged to that budget from its Content-Length, before
// it is read, and must leave 32 MiB of it free: uploads of large bodies, stalled
// or not, never turn away the everyday small requests (body_decoder.h).
inline constexpr std::size_t kLargeBodyBytes = 1u * 1024 * 1024;
inline constexpr std::size_t kSmallBodyReserve = 32u * 1024 * 1024;
// Bodies of up to 64 KiB (logins, pull requests, everyday pushes) may use the
// whole budget; bodies between 64 KiB and 1 MiB must leave 8 MiB of it free, so
// a flood of 1 MiB uploads cannot turn away a login either.
inline constexpr std::size_t kTinyBodyBytes = 64u * 1024;
inline constexpr std::size_t kTinyBodyReserve = 8u * 1024 * 1024;
// Each client's share of the budget (the attacker's review 4, N4: one token's 39
// trickled uploads held all 256 MiB): a client - the user of an authenticated
// request, the address of a login or logout - has at most one body above 1 MiB
// and at most 4 MiB of smaller bodies in flight at once; more are answered 429
// too_many_uploads (Retry-After) before they are read.
inline constexpr std::size_t kMaxLargeBodiesPerClient = 1;
inline constexpr std::size_t kMaxSmallBodyBytesPerClient = 4u * 1024 * 1024;
// Answers above kTinyBodyBytes being written to one client (a user, or the
// address of a login) at once: three pull pages at the 8 MiB cap; past it 429
// too_many_answers (one answer always fits). A slow reader holds its share,
// not everyone's budget (attacker review 15, A15-2).
inline constexpr std::size_t kMaxAnswerBytesPerClient = 24u * 1024 * 1024;
// Requests of one user being answered at once (every authenticated route): each
// holds a page and its JSON in memory before the answer is charged (attacker
// review 15, A15-3: 75 parallel pulls of one token took the process to 1 GB;
// review 16: 40 approvals lists). Past it 429 too_many_reads; the client asks
// again. Three: two devices of one user syncing, and a command beside them.
inline constexpr int kMaxReadsPerUser = 3;

// At most 1000 changes per push (docs/protocol.md): each change is its own
// transaction, so a batch this size still answers within a few seconds.
inline constexpr std::size_t kMaxChangesPerPush = 1000;
// A push batch applies changes under the write lock for at most this long (then
// answers the rest "deferred"; docs/protocol.md): other writers and logins wait
// 10 s for the lock before they give up with 503.
inline constexpr long kPushBatchBudgetMs = 2000;

// Accepted changes one user may write (WriteBudget, sync/write_budget.h): up to
// this many at once, then this many an hour (KEHU_WRITE_BURST and
// KEHU_WRITES_PER_HOUR override them). A salesperson's busiest day is a few
// hundred edits, a first sync of a big sheet some thousands; a script at 650 a
// second (attacker review 14, A14-8) is held to 5.5 a second.
inline constexpr std::int64_t kWriteBurstChanges = 20000;
inline constexpr std::int64_t kWritesPerHour = 20000;
// And of their bytes as sent (KEHU_WRITE_BURST_BYTES, KEHU_WRITE_BYTES_PER_HOUR):
// a first sync of a 20000-customer sheet is about 15 MiB; changes of 8 KB each
// at the count's pace filled 4 GB a day (attacker review 15, A15-5).
inline constexpr std::int64_t kWriteBurstBytes = 64LL << 20;
inline constexpr std::int64_t kWriteBytesPerHour = 8LL << 20;

// JSON request bodies may nest arrays and objects at most this deep; deeper is
// 400 protocol. The protocol needs 7 levels (push > changes > change > fields >
// field > old/new > tags). nlohmann::json copies, compares and dumps values
// recursively, so one authenticated push nesting a field value 100000 deep
// overflowed a worker's stack and killed the server.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Pull page size: the default keeps a page (records + revisions) around 1 MiB; the
// cap bounds the memory one request can make the server allocate.
inline constexpr std::int64_t kDefaultPullLimit = 500;
inline constexpr std::int64_t kMaxPullLimit = 5000;
// A pull page also ends once its records and revisions pass this many bytes
// (with "more": true): 5000 revisions of long texts were 192 MB in one answer.
inline constexpr std::size_t kMaxPullBytes = 8u * 1024 * 1024;
// Revisions one audit page may examine for its filter (attacker review 4, N7:
// one request walked 94,000 revisions, 7.5 s of CPU); past it the page ends
// with a cursor. (Pull decides scope from the scope index, scope_index.h, and
// needs no such budget.)
inline constexpr std::int64_t kAuditScanBudget = 10000;

// Audit page size (POST /v1/audit): a page is read by a person or fetched by
// `kehu audit --limit N`; the cap bounds what one query holds in memory.
inline constexpr std::int64_t kDefaultAuditLimit = 100;
inline constexpr std::int64_t kMaxAuditLimit = 1000;

// A change's hybrid clock may run at most 5 minutes ahead of the server's clock
// (docs/protocol.md): more than honest clock drift, less than would let a device
// with a wrong clock win every conflict for long.
inline constexpr std::int64_t kClockToleranceMs = 5LL * 60 * 1000;

// One lease hands out at most this many customer-code serials: enough for a
// week offline, and small enough that a burst of leases cannot exhaust a month's
// 3-digit serial space by accident.
inline constexpr std::int64_t kMaxLeaseCount = 100;

// All of one user's leases of one month hold at most this many serials. A
// device leases a block only when it has few codes left, so a user reaches this
// after about 2,000 customers created in a month; beyond it the device's new
// customers get provisional codes that the server codes at push. Without it one
// account could take a month's every serial in seconds.
inline constexpr std::int64_t kMaxLeasedPerUserMonth = 2000;

// A manager or admin may keep a code of their own choosing (a sheet imported
// with its codes) up to this serial: 100,000 customers a month is more than any
// team's sheet; a code beyond it would push the month's counter out of reach of
// ordinary codes (C202612999999999 once moved it to a billion).
inline constexpr std::int64_t kMaxChosenSerial = kMaxChosenCodeSerial;

// Change and record ids are UUIDs (36 characters); anything longer than this
// is refused, so a client cannot store megabytes under one id.
inline constexpr std::size_t kMaxIdBytes = 128;

// The most conflicts one change may settle ("resolves"): `kehu conflicts
// resolve` settles one field's open conflicts, a handful at most.
inline constexpr std::size_t kMaxResolvesPerChange = 100;

// The most change requests one salesperson may have waiting for a manager; a
// protected-field edit past it is refused (validation) until some are decided.
inline constexpr std::int64_t kMaxPendingRequestsPerUser = 200;
// And the most one may file in 24 hours, whatever became of them: a request
// withdrawn by a no-op of its own asker left a row each time, without limit
// (attacker review 13, A13-1: 100,000 rows in 24 s).
inline constexpr std::int64_t kMaxRequestsPerUserPerDay = 1000;
// The most change requests one listing page examines: past it the page ends
// ("more", "next_after") however few of them the caller may see.
inline constexpr std::int64_t kMaxRequestsExamined = 5000;

// Customers a salesperson may release to the public pool per day. Every sales
// device pulls the whole pool: without a cap, one salesperson created and
// released junk customers into every colleague's replica (about 200 a second).
// Managers and admins, who may reassign, are not capped.
inline constexpr std::int64_t kMaxReleasesPerSalesDay = 30;

// The most change requests one POST /v1/approvals asks about by id ("ids");
// a device with more asks in pages of this size (sync_session.cc).
inline constexpr std::size_t kMaxRequestIdsPerQuery = 500;
// Change requests in one page of POST /v1/approvals (at most; the default).
inline constexpr std::int64_t kMaxRequestsPerPage = 200;

// A refused change's answer is kept 30 days, then forgotten (login does the
// housekeeping): a client that lost the answer retries at its next sync, hours
// or days later, well inside the window, and a refusal wrote nothing, so a retry
// after it is only judged again. Applied changes are answered the same for good
// (one row per revision). Without the window every refused push, an auditor's
// spam included, stayed forever.
inline constexpr std::int64_t kRefusalMemorySeconds = 30LL * 24 * 3600;

// Answers kept for that window, refusals, no-ops and "rebase" answers, wrote no
// revision, so nothing else bounds them: at most this many are kept per user
// (attacker review 12, A12-7: 1000 no-ops a push added 1000 rows for good). Past
// it the answer is given but not kept; a retry of such a change is judged again,
// which gives the same answer while nothing changed.
inline constexpr std::int64_t kMaxExpiringResultsPerUser = 5000;

// SQLite waits this long for another writer before failing with "database is
// locked". Writes are single-change transactions of a few ms, so 10 s means the
// server is overloaded, not merely busy.
inline constexpr int kBusyTimeoutMs = 10000;

// The PostgreSQL store (postgres_store.h) waits as long for the writer lock
// (lock_timeout) and for a pooled connection. Each server process opens at most
// this many connections: PostgreSQL's default max_connections is 100, so eight
// server processes and the admin's tools fit; writers are serialised anyway, so
// more connections would only let more readers run at once.
inline constexpr std::size_t kPostgresMaxConnections = 10;

// Socket timeouts of one send() or recv() (httplib's own; SO_RCVTIMEO/SO_SNDTIMEO).
// They reset with every byte, so a trickle never hits them: the deadlines below
// are what bounds a slow client. The write timeout still bounds a client that
// stops reading an answer.
inline constexpr int kReadTimeoutSeconds = 60;
inline constexpr int kWriteTimeoutSeconds = 60;

// Per-connection read deadlines (connection_guard.h, docs/protocol.md
// "Connections"). A connection closes when a request's line and headers have
// not all arrived 10 s after the server began to wait for them; the wait
// includes keep-alive idle time, so an idle connection closes after 10 s too (the
// client reconnects). Headers are under 2 KB: a 2G link sends them in well under
// a second. Twenty connections that each sent one header line every few seconds
// used to hold every worker for 30 s and more.
inline constexpr int kHeaderDeadlineSeconds = 10;

// The body must arrive at an average of at least 16 KiB/s after a 10 s grace: its
// deadline is 10 s + (bytes received so far) / 16 KiB/s from the end of the
// headers. A 1 MiB push from a poor mobile link (~50 KB/s up) is not cut; a
// client that declares 32 MiB and trickles is cut within seconds of falling
// below the rate. No deadline while a handler runs.
inline constexpr int kBodyDeadlineSeconds = 10;
inline constexpr std::size_t kBodyMinBytesPerSecond = 16 * 1024;
// However fast it started, a body must have arrived 300 s after the end of its
// headers: a 32 MiB body trickled at the minimum rate held its bytes of the
// budget for 34 minutes. 300 s is 15 MB at a poor mobile link's 50 KB/s, far
// more than a push of 1000 changes holds.
inline constexpr int kBodyMaxSeconds = 300;
// A body above kLargeBodyBytes must arrive at an average of at least 256 KiB/s
// after the grace (N4: a 32 MiB body at 16 KiB/s held its 32 MiB of the budget
// for the whole 300 s): 32 MiB then takes at most 10 s + 128 s.
inline constexpr std::size_t kLargeBodyMinBytesPerSecond = 256 * 1024;

// Connections open at once from one client address; more are refused (503
// too_many_connections) at once. The app keeps one sync connection per device;
// 64 leaves room for an office of 64 devices behind one NAT address (raise it,
// KEHU_HTTP_MAX_CONNECTIONS_PER_ADDRESS, for larger sites) and stops one address
// from taking the whole worker pool.
inline constexpr int kMaxConnectionsPerAddress = 64;

// Worker threads (elastic_pool.h): each open connection holds one for its whole
// keep-alive life, so the pool grows on demand up to 512 (a team of 200 devices
// each keeping a sync connection, twice over) and idle workers above 8 exit after
// 60 s. A thread costs its stack's touched pages (tens of KB), not the 8 MB
// reserved. Past 512 connections wait for a worker in accept order.
// Waiting pulls (commit_feed.h): a pull is held at most 60 s (the client asks
// for less: proxies and NATs close connections quiet for longer); at most 384
// at once, three quarters of the workers, so that a quarter always serves the
// other requests (KEHU_HTTP_MAX_WAITING_PULLS); at most 8 per user (a
// salesperson's phone, laptop and `kehu watch`, with room to spare).
inline constexpr std::int64_t kMaxPullWaitSeconds = 60;
inline constexpr std::size_t kMaxWaitingPulls = 384;
inline constexpr std::size_t kMaxWaitingPullsPerUser = 8;
// A waiting pull's body ({"cursor", "limit", "max_bytes", "wait"}) at most.
inline constexpr std::size_t kMaxWaitingPullBodyBytes = 4096;
// How long a waiting pull waits for one of its user's reads (above) before
// each look: several of one user's, woken by one commit, take turns.
inline constexpr int kWaitingPullPatienceMs = 10000;
inline constexpr std::size_t kMinWorkers = 8;
inline constexpr std::size_t kMaxWorkers = 512;
inline constexpr int kWorkerIdleSeconds = 60;

// A login body is a name, a password and a device id: well under 1 KB. Before
// login nobody is known, so the body (raw and inflated) is capped at 16 KiB
// rather than kMaxBodyBytes; every other route is authenticated from its
// headers before its body is read.
inline constexpr std::size_t kMaxLoginBodyBytes = 16 * 1024;

// Public pool (公海): customers one user may claim per day unless an admin sets
// another cap (`kehu-server pool set-cap N`, setting "claim_cap").
inline constexpr std::int64_t kDefaultClaimCap = 10;

}  // namespace kehu::server::config
