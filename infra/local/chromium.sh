# Sourced by dev.sh for the tests: exports CHROMIUM_BIN, a Chromium the dashboard's browser tests
# drive (playwright-core). Installs Debian's package when none is there and this is root.
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
ensure_chromium() {
  if [ -n "${CHROMIUM_BIN:-}" ] && [ -x "$CHROMIUM_BIN" ]; then return 0; fi
  local found
  found=$(command -v chromium || command -v chromium-browser || true)
  if [ -z "$found" ]; then
    apt_install_for_tests chromium "the dashboard's browser tests" CHROMIUM_BIN || return 1
    found=$(command -v chromium)
  fi
  export CHROMIUM_BIN=$found
}
ensure_chromium
