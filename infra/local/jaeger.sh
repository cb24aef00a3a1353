# Sourced by dev.sh for the tests: exports JAEGER_BIN, the Jaeger (v2: OTLP receivers, query API,
# memory storage) that the tracing tests export spans to and read them back from.
# Built once from the Go module proxy and cached by version beside the servers of servers.sh.
JAEGER_VERSION=v1.76.0 # the Go module's tag of Jaeger v2.13.0

# `go install …/cmd/jaeger@version` refuses the module (its go.mod has replace directives), so
# the build runs in a throwaway module that requires it. The binary is moved into place only
# once built: a failed or interrupted build leaves nothing half-made in the cache.
build_jaeger() (
  local bin=$1 work
  mkdir -p "$(dirname "$bin")" && work=$(mktemp -d "$bin.build.XXXXXX") || return 1
  trap 'rm -rf "$work"' EXIT
  # `&&` throughout: errexit does not apply inside the `if !` that calls this.
  cd "$work" && export GOWORK=off GOFLAGS= &&
    go mod init jaeger-build &&
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" &&
    go build -o "$work/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger &&
    mv "$work/jaeger" "$bin"
)

ensure_jaeger() {
  if [ -n "${JAEGER_BIN:-}" ] && [ -x "$JAEGER_BIN" ]; then return 0; fi
  local cache_dir=${EVENT_DRIVEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-driven}
  local bin="$cache_dir/servers/jaeger-$JAEGER_VERSION/jaeger"
  local log="$cache_dir/logs/build-jaeger.log" started=$SECONDS
  if [ ! -x "$bin" ]; then
    if ! command -v go >/dev/null 2>&1; then
      echo "[infra] no Jaeger for the tracing tests: Go >= 1.24 is needed to build it (go is not on PATH), or set JAEGER_BIN" >&2
      return 1
    fi
    mkdir -p "$cache_dir/logs"
    echo "[infra] building Jaeger $JAEGER_VERSION for the tracing tests (first time only: 5-6 min, or ~30 s with Go's caches warm; log: $log)" >&2
    if ! build_jaeger "$bin" >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      echo "[infra] building Jaeger failed (log: $log); or set JAEGER_BIN to a Jaeger v2 binary" >&2
      return 1
    fi
    echo "[infra] built Jaeger in $((SECONDS - started)) s ($bin)" >&2
  fi
  export JAEGER_BIN=$bin
}
ensure_jaeger
