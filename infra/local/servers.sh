#!/usr/bin/env bash
# Local servers for tests and development, on loopback, without Docker:
#   nats-server (JetStream), FerretDB on PostgreSQL (MongoDB wire protocol), versitygw (S3).
# Usage: servers.sh up [--cluster] | down | status | env
#   up      builds what is missing (cached by version), starts what is not running, waits until
#           each server answers, then prints KEY=value lines (NATS_URL, MONGODB_URL, S3_*) on stdout.
#           NATS_AUTH=1 starts nats-server with users and permissions (infra/local/nats-auth.ts)
#           and prints NATS_USER / NATS_PASSWORD too.
#           --cluster (or ED_NATS_CLUSTER=1) starts three nats-servers as one JetStream cluster
#           instead of one (client ports ED_NATS_PORT and the next two, routes from
#           ED_NATS_CLUSTER_PORT, 6222), and NATS_URL names all three; streams take replicas: 3.
#   down    stops only what `up` started, by the pids it recorded.
#   status  says what runs; exit 0 when all servers run, 1 otherwise.
#   env     prints the KEY=value lines without starting anything.
#   built   exit 0 when all three server binaries are built and cached.
# Progress goes to stderr, so `eval "$(servers.sh up)"` and `servers.sh up > servers.env` work.
set -euo pipefail
# runuser, pg_ctl's helpers: a minimal PATH may lack the system directories.
PATH="$PATH:/usr/sbin:/sbin"

NATS_VERSION=v2.12.4
FERRETDB_VERSION=v1.24.2
VERSITYGW_VERSION=v1.7.0

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_dir=${EVENT_DRIVEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-driven}
data_dir=${ED_INFRA_DIR:-$repo_root/.local/infra}
host=127.0.0.1
nats_port=${ED_NATS_PORT:-4222}
nats_monitor_port=${ED_NATS_MONITOR_PORT:-8222}
nats_cluster_port=${ED_NATS_CLUSTER_PORT:-6222}
nats_cluster_size=3
[ "${2:-}" = --cluster ] && ED_NATS_CLUSTER=1
mongodb_port=${ED_MONGODB_PORT:-27017}
postgres_port=${ED_POSTGRES_PORT:-5433}
s3_port=${ED_S3_PORT:-7070}
s3_access_key=${ED_S3_ACCESS_KEY:-test}
s3_secret_key=${ED_S3_SECRET_KEY:-testsecret}

# The servers this invocation started, oldest first: a failure stops them all.
started=()

say() { printf '[infra] %s\n' "$*" >&2; }
fail() {
  printf '[infra] error: %s\n' "$*" >&2
  if ((${#started[@]} > 0)); then
    stop_started
    say "stopped what this run had started: nothing was left running"
  fi
  exit 1
}

nats_bin="$cache_dir/servers/nats-server-$NATS_VERSION/nats-server"
ferretdb_bin="$cache_dir/servers/ferretdb-$FERRETDB_VERSION/ferretdb"
versitygw_bin="$cache_dir/servers/versitygw-$VERSITYGW_VERSION/versitygw"

# ---------------------------------------------------------------------------------------------
# Builds, cached outside the repo and keyed by version.

require_go() {
  command -v go >/dev/null 2>&1 ||
    fail "Go >= 1.24 is needed to build the local servers (go is not on PATH); or set NATS_URL, MONGODB_URL and S3_URL to servers you run yourself"
}

# build NAME BIN COMMAND...: runs COMMAND once when BIN is missing; shows the log's tail on failure.
build() {
  local name=$1 bin=$2; shift 2
  [ -x "$bin" ] && return 0
  require_go
  mkdir -p "$cache_dir/logs" "$(dirname "$bin")"
  local log="$cache_dir/logs/build-$name.log" build_started=$SECONDS
  say "building $name (first time only, 1-3 min; log: $log)"
  if ! "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$bin"
    fail "building $name failed (log above: $log)"
  fi
  say "built $name in $((SECONDS - build_started)) s"
}

build_nats() {
  GOBIN=$(dirname "$nats_bin") go install "github.com/nats-io/nats-server/v2@$NATS_VERSION"
}

build_versitygw() {
  GOBIN=$(dirname "$versitygw_bin") go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
}

# The module zip lacks build/version/version.txt, without which the binary panics at start.
build_ferretdb() {
  local module_dir src="$cache_dir/src/ferretdb-$FERRETDB_VERSION"
  module_dir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$module_dir" ] || { echo "go mod download gave no Dir"; return 1; }
  rm -rf "$src" && mkdir -p "$(dirname "$src")"
  cp -r "$module_dir" "$src" && chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  (cd "$src" && go build -o "$ferretdb_bin" ./cmd/ferretdb)
  rm -rf "$src"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL (Debian's package) for FerretDB. It refuses to run as root, so as root it runs as the
# `postgres` user, with its data where that user can reach it.

pg_bin_dir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

ensure_postgres_installed() {
  pg_bin_dir >/dev/null && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "PostgreSQL 15 is not installed (FerretDB stores its data in it): run 'sudo apt-get install -y postgresql' once, or set MONGODB_URL to a MongoDB you run yourself"
  fi
  say "installing PostgreSQL from Debian's packages (apt-get install postgresql)"
  local log="$cache_dir/logs/apt-postgresql.log"
  mkdir -p "$cache_dir/logs"
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    fail "installing PostgreSQL failed (log: $log)"
  fi
  pg_bin_dir >/dev/null || fail "PostgreSQL was installed but no /usr/lib/postgresql/*/bin/initdb was found"
}

as_root() { [ "$(id -u)" = 0 ]; }

# Runs a PostgreSQL command as the user that owns the cluster.
pg_run() {
  if as_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where the cluster lives: under the data dir when the postgres user can reach it, else under
# /var/tmp, keyed by the data dir, so that a repo under /root still works when run as root.
pg_data_dir() {
  local dir="$data_dir/postgres"
  if as_root && ! runuser -u postgres -- test -x "$data_dir" 2>/dev/null; then
    dir="/var/tmp/event-driven-$(printf '%s' "$data_dir" | md5sum | cut -c1-12)/postgres"
  fi
  echo "$dir"
}

# ---------------------------------------------------------------------------------------------
# Processes: pid files in the data dir; a pid counts as ours only while its command line names
# our binary and our data dir, so a reused pid is never signalled.

pid_file() { echo "$data_dir/$1.pid"; }
log_file() { echo "$data_dir/$1.log"; }

running_pid() {
  local name=$1 file pid
  file=$(pid_file "$name")
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$data_dir" || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

check_port_free() {
  local port=$1 what=$2 env_name=$3
  if port_in_use "$port"; then
    fail "port $port ($what) is already in use by another process; stop it or set $env_name to a free port"
  fi
}

# start NAME COMMAND...: runs COMMAND in its own session, records its pid.
start_process() {
  local name=$1; shift
  local log
  log=$(log_file "$name")
  : >"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
  started+=("$name")
}

# wait_until NAME SECONDS CHECK...: polls CHECK until it succeeds, the process dies or time runs out.
wait_until() {
  local name=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    # kill -0 only: right after the fork the command line is still this script's.
    if [ "$name" != postgres ] && ! kill -0 "$(cat "$(pid_file "$name")")" 2>/dev/null; then break; fi
    sleep 0.2
  done
  report_failure "$name"
}

report_failure() {
  local name=$1 log
  log=$(log_file "$name")
  [ "$name" = postgres ] && log="$(pg_data_dir).log"
  say "$name did not start; last lines of $log:"
  tail -n 15 "$log" >&2 2>/dev/null || true
  fail "$name did not start (its log is above)"
}

stop_pid() {
  local name=$1 pid
  pid=$(running_pid "$name") || { rm -f "$(pid_file "$name")"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$(pid_file "$name")"
  say "stopped $name (pid $pid)"
}

stop_postgres() {
  local dir bin
  dir=$(pg_data_dir)
  bin=$(pg_bin_dir) || return 0
  [ -f "$dir/postmaster.pid" ] || return 0
  pg_run "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  say "stopped postgres"
}

# Stops what this invocation started, newest first (used when a later server fails to start).
stop_started() {
  local i
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    if [ "${started[$i]}" = postgres ]; then stop_postgres; else stop_pid "${started[$i]}"; fi
  done
  started=()
}

# ---------------------------------------------------------------------------------------------
# Servers

up_nats() {
  if running_pid nats >/dev/null; then say "nats-server already running on $host:$nats_port"; return; fi
  check_port_free "$nats_port" "NATS client" ED_NATS_PORT
  check_port_free "$nats_monitor_port" "NATS monitoring" ED_NATS_MONITOR_PORT
  mkdir -p "$data_dir/nats"
  local auth=()
  if [ "${NATS_AUTH:-0}" = 1 ]; then
    # The CLI ships this script without the monorepo's users and permissions.
    [ -f "$repo_root/infra/local/nats-auth.ts" ] ||
      fail "NATS_AUTH=1 works in the event-driven monorepo only (infra/local/nats-auth.ts)"
    # A user per part with the least it needs, and `blog` for the all-in-one process.
    node "$repo_root/infra/local/nats-auth.ts" "$data_dir/nats" >"$data_dir/nats/client.env" ||
      fail "could not write the NATS authorization config"
    chmod 600 "$data_dir/nats/client.env"
    auth=(-c "$data_dir/nats/auth.conf")
    say "NATS authorization on: users and passwords in $data_dir/nats/users.env"
  else
    rm -f "$data_dir/nats/client.env"
  fi
  start_process nats "$nats_bin" "${auth[@]}" -js -a "$host" -p "$nats_port" \
    -m "$nats_monitor_port" -sd "$data_dir/nats"
  wait_until nats 30 curl -fsS "http://$host:$nats_monitor_port/healthz?js-enabled-only=true"
  say "nats-server $NATS_VERSION ready on $host:$nats_port"
}

# A JetStream cluster on loopback: node i (1-3) takes client, monitoring and route ports counted
# up from the single server's, a store folder of its own and the server name n<i>.
cluster_on() { [ -f "$data_dir/nats-cluster/on" ]; }
cluster_urls() {
  local i urls=()
  for ((i = 0; i < nats_cluster_size; i++)); do urls+=("nats://$host:$((nats_port + i))"); done
  (IFS=,; echo "${urls[*]}")
}

up_nats_cluster() {
  [ "${NATS_AUTH:-0}" = 1 ] && fail "NATS_AUTH=1 and --cluster do not go together yet: start one or the other"
  running_pid nats >/dev/null && fail "a single nats-server runs: servers.sh down first, then up --cluster"
  local i routes=()
  for ((i = 0; i < nats_cluster_size; i++)); do routes+=("nats://$host:$((nats_cluster_port + i))"); done
  mkdir -p "$data_dir/nats-cluster"
  for ((i = 1; i <= nats_cluster_size; i++)); do
    local name="nats-$i" port=$((nats_port + i - 1)) monitor=$((nats_monitor_port + i - 1))
    if running_pid "$name" >/dev/null; then say "$name already running on $host:$port"; continue; fi
    check_port_free "$port" "NATS client of node $i" ED_NATS_PORT
    check_port_free "$monitor" "NATS monitoring of node $i" ED_NATS_MONITOR_PORT
    check_port_free "$((nats_cluster_port + i - 1))" "NATS routes of node $i" ED_NATS_CLUSTER_PORT
    mkdir -p "$data_dir/nats-cluster/n$i"
    start_process "$name" "$nats_bin" -js -a "$host" -p "$port" -m "$monitor" \
      -sd "$data_dir/nats-cluster/n$i" -n "n$i" --cluster_name event-driven \
      --cluster "nats://$host:$((nats_cluster_port + i - 1))" --routes "$(IFS=,; echo "${routes[*]}")"
  done
  for ((i = 1; i <= nats_cluster_size; i++)); do
    wait_until "nats-$i" 30 curl -fsS "http://$host:$((nats_monitor_port + i - 1))/healthz?js-enabled-only=true"
  done
  # Streams can be made once the cluster has elected its JetStream meta leader.
  wait_until nats-1 30 sh -c "curl -fsS 'http://$host:$nats_monitor_port/jsz' | grep -q '\"leader\": *\"n'"
  touch "$data_dir/nats-cluster/on" # env, status and down read it
  say "nats-server $NATS_VERSION cluster of $nats_cluster_size ready on $(cluster_urls)"
}

pg_ready() { "$(pg_bin_dir)/pg_isready" -q -h "$host" -p "$postgres_port"; }

up_postgres() {
  local bin dir
  bin=$(pg_bin_dir)
  dir=$(pg_data_dir)
  if pg_ready && [ -f "$dir/postmaster.pid" ]; then return; fi
  check_port_free "$postgres_port" "PostgreSQL for FerretDB" ED_POSTGRES_PORT
  mkdir -p "$(dirname "$dir")"
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    as_root && chown postgres: "$dir"
    pg_run "$bin/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale=C >"$dir.init.log" 2>&1 ||
      { tail -n 15 "$dir.init.log" >&2; fail "initdb for FerretDB's PostgreSQL failed"; }
  fi
  as_root && touch "$dir.log" && chown postgres: "$dir.log"
  started+=(postgres)
  # No unix socket: loopback TCP only. fsync off: test data, speed over durability.
  pg_run "$bin/pg_ctl" -D "$dir" -l "$dir.log" -w -t 60 start \
    -o "-p $postgres_port -c listen_addresses=$host -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null 2>&1 || report_failure postgres
  wait_until postgres 30 pg_ready
  if ! pg_run "$bin/psql" -h "$host" -p "$postgres_port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'" | grep -q 1; then
    pg_run "$bin/createdb" -h "$host" -p "$postgres_port" -U postgres ferretdb
  fi
}

up_ferretdb() {
  if running_pid ferretdb >/dev/null; then say "FerretDB already running on $host:$mongodb_port"; return; fi
  check_port_free "$mongodb_port" "MongoDB wire protocol (FerretDB)" ED_MONGODB_PORT
  up_postgres
  mkdir -p "$data_dir/ferretdb"
  start_process ferretdb "$ferretdb_bin" --handler=postgresql \
    --postgresql-url="postgres://postgres@$host:$postgres_port/ferretdb" \
    --listen-addr="$host:$mongodb_port" --state-dir="$data_dir/ferretdb" --telemetry=disable \
    --debug-addr=- --log-level=warn
  wait_until ferretdb 30 port_in_use "$mongodb_port"
  say "FerretDB $FERRETDB_VERSION (PostgreSQL) ready on $host:$mongodb_port"
}

up_versitygw() {
  if running_pid versitygw >/dev/null; then say "versitygw already running on $host:$s3_port"; return; fi
  check_port_free "$s3_port" "S3 (versitygw)" ED_S3_PORT
  mkdir -p "$data_dir/s3/objects" "$data_dir/s3/metadata"
  # --sidecar keeps object metadata out of xattrs, which some file systems refuse. (versitygw
  # compares the two paths as strings, so neither may be a prefix of the other.)
  ROOT_ACCESS_KEY=$s3_access_key ROOT_SECRET_KEY=$s3_secret_key \
    start_process versitygw "$versitygw_bin" --port "$host:$s3_port" posix \
    --sidecar "$data_dir/s3/metadata" "$data_dir/s3/objects"
  # Any HTTP answer (403 for an unsigned request) means it serves.
  wait_until versitygw 30 curl -sS -o /dev/null "http://$host:$s3_port/"
  say "versitygw $VERSITYGW_VERSION ready on $host:$s3_port"
}

print_env() {
  local nats_url="nats://$host:$nats_port"
  cluster_on && nats_url=$(cluster_urls)
  cat <<EOF
NATS_URL=$nats_url
MONGODB_URL=mongodb://$host:$mongodb_port/
S3_URL=http://$host:$s3_port
S3_REGION=us-east-1
S3_ACCESS_KEY_ID=$s3_access_key
S3_SECRET_ACCESS_KEY=$s3_secret_key
NATS_SERVER_BIN=$nats_bin
VERSITYGW_BIN=$versitygw_bin
EOF
  # The all-in-one process's NATS user, when the server was started with NATS_AUTH=1.
  [ -f "$data_dir/nats/client.env" ] && cat "$data_dir/nats/client.env"
  return 0
}

cmd_up() {
  build nats-server "$nats_bin" build_nats
  build ferretdb "$ferretdb_bin" build_ferretdb
  build versitygw "$versitygw_bin" build_versitygw
  ensure_postgres_installed
  mkdir -p "$data_dir"
  # A cluster, once up, is what `up` keeps until `down` (./dev.sh test then uses it).
  if [ "${ED_NATS_CLUSTER:-0}" = 1 ] || cluster_on; then up_nats_cluster; else up_nats; fi
  up_ferretdb
  up_versitygw
  print_env | tee "$data_dir/servers.env"
}

cmd_down() {
  stop_pid versitygw
  stop_pid ferretdb
  stop_postgres
  stop_pid nats
  local i
  for ((i = 1; i <= nats_cluster_size; i++)); do stop_pid "nats-$i"; done
  rm -f "$data_dir/servers.env" "$data_dir/nats-cluster/on"
}

cmd_status() {
  local all=0 name pid nats_names=(nats)
  cluster_on && nats_names=(nats-1 nats-2 nats-3)
  for name in "${nats_names[@]}" ferretdb versitygw; do
    if pid=$(running_pid "$name"); then
      say "$name: running (pid $pid)"
    else
      say "$name: stopped"; all=1
    fi
  done
  if pg_bin_dir >/dev/null && pg_ready 2>/dev/null; then say "postgres: running on $host:$postgres_port"
  else say "postgres: stopped"; all=1; fi
  [ "$all" = 0 ] && print_env
  return "$all"
}

cmd_built() {
  [ -x "$nats_bin" ] && [ -x "$ferretdb_bin" ] && [ -x "$versitygw_bin" ]
}

case "${1:-}" in
  up) cmd_up ;;
  built) cmd_built ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) print_env ;;
  *) echo "usage: $0 up | down | status | env | built" >&2; exit 2 ;;
esac
