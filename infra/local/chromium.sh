# Sourced by dev.sh for the tests: exports CHROMIUM_BIN, a Chromium the dashboard's browser tests
# drive (playwright-core). Installs Debian's package when none is there and this is root.
ensure_chromium() {
  if [ -n "${CHROMIUM_BIN:-}" ] && [ -x "$CHROMIUM_BIN" ]; then return 0; fi
  local found
  found=$(command -v chromium || command -v chromium-browser || true)
  if [ -z "$found" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "[infra] no Chromium for the dashboard's browser tests: run 'sudo apt-get install -y chromium' once, or set CHROMIUM_BIN" >&2
      return 1
    fi
    echo "[infra] installing Chromium from Debian's packages (apt-get install chromium)" >&2
    local log="$HOME/.cache/event-driven/logs/apt-chromium.log"
    mkdir -p "$(dirname "$log")"
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      echo "[infra] installing Chromium failed (log: $log)" >&2
      return 1
    fi
    found=$(command -v chromium)
  fi
  export CHROMIUM_BIN=$found
}
ensure_chromium
