# Sourced by dev.sh for the tests: exports PROMETHEUS_BIN and PROMTOOL_BIN, the Prometheus that
# scrapes a running service in the metrics tests, and its promtool, which checks /metrics text.
# Installs Debian's package when none is there and this is root (no service is started by it).
ensure_prometheus() {
  if [ -n "${PROMETHEUS_BIN:-}" ] && [ -x "$PROMETHEUS_BIN" ] &&
    [ -n "${PROMTOOL_BIN:-}" ] && [ -x "$PROMTOOL_BIN" ]; then return 0; fi
  if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "[infra] no Prometheus for the metrics tests: run 'sudo apt-get install -y prometheus' once, or set PROMETHEUS_BIN and PROMTOOL_BIN" >&2
      return 1
    fi
    echo "[infra] installing Prometheus from Debian's packages (apt-get install prometheus)" >&2
    local log="$HOME/.cache/event-driven/logs/apt-prometheus.log"
    mkdir -p "$(dirname "$log")"
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; } >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      echo "[infra] installing Prometheus failed (log: $log)" >&2
      return 1
    fi
  fi
  PROMETHEUS_BIN=$(command -v prometheus)
  PROMTOOL_BIN=$(command -v promtool)
  export PROMETHEUS_BIN PROMTOOL_BIN
}
ensure_prometheus
