#!/usr/bin/env bash
# The README's two commands, for a fresh machine (or any machine):
#   ./dev.sh start   set up, start local servers unless URLs are given, run the main job
#   ./dev.sh test    set up, start local servers unless URLs are given, run every test
# Setting up means Node >= 22 and the pinned pnpm (installed when missing) and `pnpm install`.
# Servers this command started are stopped when it ends; servers already running are left alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

job=${1:-}
case "$job" in
  start | test) ;;
  *) echo "usage: ./dev.sh start | test" >&2; exit 2 ;;
esac

source infra/local/toolchain.sh
# SETUP=skip: the checkout is set up already (installed and built), as in CI after `pnpm lint`.
if [ "${SETUP:-}" != skip ]; then
  pnpm install --frozen-lockfile
  pnpm build # every package, and the dashboard's bundle, which the admin part serves
fi

# Fills in the server variables that are not set from local servers, starting them if needed.
use_local_servers() {
  if [ -n "${NATS_URL:-}" ] && [ -n "${MONGODB_URL:-}" ] && [ -n "${S3_URL:-}" ]; then return; fi
  if ! bash infra/local/servers.sh status >/dev/null 2>&1; then
    trap 'bash infra/local/servers.sh down' EXIT
  fi
  local lines line key s3_given=${S3_URL:-}
  lines=$(bash infra/local/servers.sh up)
  while IFS= read -r line; do
    key=${line%%=*}
    case "$key" in
      S3_*) [ -n "$s3_given" ] || export "${line?}" ;;
      *) [ -n "${!key:-}" ] || export "${line?}" ;;
    esac
  done <<<"$lines"
}
use_local_servers
# The dashboard's browser tests drive Chromium; the metrics tests run Prometheus and promtool.
if [ "$job" = test ]; then
  source infra/local/chromium.sh
  source infra/local/prometheus.sh
  source infra/local/jaeger.sh
fi

# Runs the job in a process group of its own, in the background, so that SIGTERM/SIGINT reach
# every process of it (pnpm does not pass TERM on to the node process it runs): it drains, then
# exits, and the servers this command started are stopped after it.
run_job() {
  set -m
  "$@" &
  local child=$! status=0
  set +m
  trap 'kill -TERM -- "-$child" 2>/dev/null || true' TERM INT
  wait "$child" || true
  # A signal interrupts `wait`: wait again until the job has finished stopping, then take the
  # status the job exited with (bash keeps it), not the signal's that interrupted the wait.
  while kill -0 "$child" 2>/dev/null; do wait "$child" || true; done
  wait "$child" || status=$?
  return "$status"
}

case "$job" in
  # The main job copies its history to the S3 archive (set ARCHIVE_BUCKET= to turn it off).
  # And serves the dashboard: with no ADMIN_API_KEYS, a key made for this run.
  start)
    # A development run: without AUTH_SECRET the gateway warns and signs tokens with a
    # development secret (outside development a missing AUTH_SECRET stops the start).
    export NODE_ENV=${NODE_ENV:-development}
    export ARCHIVE_BUCKET=${ARCHIVE_BUCKET-blog-archive}
    if [ -z "${ADMIN_API_KEYS:-}" ]; then
      ADMIN_API_KEYS="admin:$(node -e 'process.stdout.write(require("crypto").randomBytes(12).toString("hex"))')"
      export ADMIN_API_KEYS
      echo "dashboard key for this run: ${ADMIN_API_KEYS#admin:}"
    fi
    # Node itself, not `pnpm start`: Ctrl-C then ends with the blog's own exit status (0 once it
    # has drained), without pnpm's "Command failed" for a signal. The workspace's packages
    # resolve to their sources under this condition (.npmrc gives it to pnpm commands).
    export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--conditions=@event-driven/source"
    run_job node boilerplate/blog-service/src/main.ts
    ;;
  test) run_job pnpm test ;;
esac
