# Sourced by dev.sh for the tests: exports PROMETHEUS_BIN and PROMTOOL_BIN, the Prometheus that
# scrapes a running service in the metrics tests, and its promtool, which checks /metrics text.
# Installs Debian's package when none is there and this is root (no service is started by it).
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
ensure_prometheus() {
  if [ -n "${PROMETHEUS_BIN:-}" ] && [ -x "$PROMETHEUS_BIN" ] &&
    [ -n "${PROMTOOL_BIN:-}" ] && [ -x "$PROMTOOL_BIN" ]; then return 0; fi
  if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    apt_install_for_tests prometheus "the metrics tests" "PROMETHEUS_BIN and PROMTOOL_BIN" || return 1
  fi
  PROMETHEUS_BIN=$(command -v prometheus)
  PROMTOOL_BIN=$(command -v promtool)
  export PROMETHEUS_BIN PROMTOOL_BIN
}
ensure_prometheus
