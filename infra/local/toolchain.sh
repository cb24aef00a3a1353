# shellcheck shell=bash
# Sourced by dev.sh and .ci/run: puts Node >= 22 and the pnpm pinned in package.json on PATH.
# When the machine lacks them, installs Node 24 and that pnpm from the npm registry (the `node`
# package carries the real binary) into a cache keyed by version, so it happens once.

ed_node_version=24.21.0
ed_repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ed_pnpm_version=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$ed_repo_root/package.json")

ed_toolchain_ok() {
  command -v node >/dev/null 2>&1 && command -v pnpm >/dev/null 2>&1 &&
    [ "$(node -p 'const [a, b] = process.versions.node.split(".").map(Number); a > 22 || (a === 22 && b >= 18)')" = true ] &&
    [ "$(pnpm --version 2>/dev/null)" = "$ed_pnpm_version" ]
}

if ! ed_toolchain_ok; then
  ed_tools="${EVENT_DRIVEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-driven}/tools/node-$ed_node_version-pnpm-$ed_pnpm_version"
  if [ ! -x "$ed_tools/node_modules/.bin/pnpm" ] || [ ! -x "$ed_tools/node_modules/.bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "[setup] error: npm is needed once to install Node $ed_node_version and pnpm $ed_pnpm_version (install Node >= 20 with npm first)" >&2
      exit 1
    fi
    echo "[setup] installing Node $ed_node_version and pnpm $ed_pnpm_version into $ed_tools (once)" >&2
    mkdir -p "$ed_tools"
    npm install --prefix "$ed_tools" --no-save --no-package-lock --no-audit --no-fund \
      "node@$ed_node_version" "pnpm@$ed_pnpm_version" >&2
  fi
  export PATH="$ed_tools/node_modules/.bin:$PATH"
  ed_toolchain_ok || { echo "[setup] error: Node >= 22.18 and pnpm $ed_pnpm_version are still not usable from $ed_tools" >&2; exit 1; }
fi
echo "[setup] node $(node --version), pnpm $(pnpm --version)" >&2
