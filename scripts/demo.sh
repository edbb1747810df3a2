#!/usr/bin/env bash
# The main job on the embedded default: a kehu-server on loopback with its SQLite
# store, and two salespeople's encrypted replicas. Both edit the same customer
# offline (one field in conflict), both sync, and we print the merged customer,
# the conflict and the history with both authors.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$root/build}" bash "$root/scripts/build.sh" -DKEHU_TESTS=OFF
bin="${BUILD_DIR:-$root/build}"
kehu="$bin/cli/kehu"
server="$bin/server-stub/kehu-server"
sample="$root/examples/customers-demo.csv"  # the project's own sheet, in the template's layout

work="$(mktemp -d /tmp/kehu-demo.XXXXXX)"
cleanup() { [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
export KEHU_LANG=zh

step "The team's server: kehu-server on 127.0.0.1 with a SQLite store in $work/server"
"$server" init --data "$work/server"
KEHU_PASSWORD=wang-password "$server" user add 王五 --role sales --data "$work/server"
KEHU_PASSWORD=li-password "$server" user add 李四 --role sales --data "$work/server"
echo "王五 and 李四 both sell in 江苏 (their territory); each also sees the customers they own."
"$server" user set-regions 王五 江苏 --data "$work/server"
"$server" user set-regions 李四 江苏 --data "$work/server"
"$server" serve --data "$work/server" --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
# The startup line follows KEHU_LANG: "正在监听 127.0.0.1:PORT" ("listening on ..." in English).
for _ in $(seq 1 100); do grep -qE "listening on|正在监听" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url="http://$(sed -nE 's/.*(listening on|正在监听) ([0-9.:]*).*/\2/p' "$work/server.out" | head -1)"
echo "server at $url"

wang() { KEHU_PASSPHRASE=wang-replica-key "$kehu" --db "$work/wang.db" "$@"; }
li() { KEHU_PASSPHRASE=li-replica-key "$kehu" --db "$work/li.db" "$@"; }

step "王五: an encrypted replica, log in, import the team's sheet (its 3 bad rows are reported and skipped), sync"
wang init
KEHU_PASSWORD=wang-password wang login --server "$url" --user 王五
wang import --skip-bad "$sample"
wang sync

step "李四: an encrypted replica of his own, log in, first sync pulls only his scope: the 江苏 customers"
li init
KEHU_PASSWORD=li-password li login --server "$url" --user 李四
li sync
li status

code=C202411001
step "Both go offline and edit $code"
echo "王五 sets the phone and the sales stage:"
wang customer edit "$code" --set 联系电话=13912345678 --set 销售阶段=方案制定 >/dev/null
echo "李四 sets the sales stage too (a conflict) and adds a tag:"
li customer edit "$code" --set 销售阶段=需求分析 --set "标签=老客户转介绍;需要演示;高预算" >/dev/null
echo "李四 adds a follow-up:"
li followup add "$code" --set 跟进日期=2026-11-27 --set 跟进人=李四 --set 跟进方式=电话沟通 --set 跟进内容=确认需求，约下周演示 >/dev/null

step "Back online: 王五 syncs, then 李四, then 王五 again"
wang sync
li sync
wang sync

step "The merged customer, the same on both replicas"
wang customer show "$code"
diff <(wang --json customer show "$code" | grep -v '"pending"') <(li --json customer show "$code" | grep -v '"pending"') \
  && echo "(王五's and 李四's replicas agree)"

step "The conflict: the later edit won, the other is kept for review"
li conflicts

step "History of $code, with both authors (offline, from 王五's replica)"
wang history "$code"

step "The server's revision chain verifies"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
"$server" audit verify --data "$work/server"
echo
echo "demo files left in $work"
