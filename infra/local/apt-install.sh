# Sourced by the scripts that find a test tool (chromium.sh, prometheus.sh): installs one of
# Debian's packages when this is root on a machine with apt, logging to the cache; otherwise it
# says what to run. Usage: apt_install_for_tests PACKAGE WHAT-IT-IS-FOR ENV-VARIABLES-TO-SET
apt_install_for_tests() {
  local package=$1 purpose=$2 variables=$3
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "[infra] no $package for $purpose: run 'sudo apt-get install -y $package' once, or set $variables" >&2
    return 1
  fi
  echo "[infra] installing $package from Debian's packages (apt-get install $package)" >&2
  local log="${EVENT_DRIVEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-driven}/logs/apt-$package.log"
  mkdir -p "$(dirname "$log")"
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "[infra] installing $package failed (log: $log)" >&2
    return 1
  fi
}
