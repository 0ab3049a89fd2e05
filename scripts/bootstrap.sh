#!/usr/bin/env bash
# Bootstraps a fresh clone for `npm test` or `npm run demo`: the pinned pnpm (into .tools/, no global
# install), the Debian packages the tests drive for real (chromium, nginx), and the workspace itself.
# Safe to run again: each step is skipped when what it provides is already there.
#
#   bash scripts/bootstrap.sh test    # npm test: pnpm, apt packages, pnpm install
#   bash scripts/bootstrap.sh demo    # npm run demo: pnpm, pnpm install
#   bash scripts/bootstrap.sh quick   # npm run test:quick: pnpm only (no apt, no root); pnpm install
#                                     # only when node_modules is missing (a no-op install takes ~30 s)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-test}"

pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(.tools/bin/pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  echo "bootstrap: installing pnpm $pnpm_version into .tools/"
  npm install --silent --no-audit --no-fund --prefix .tools "pnpm@$pnpm_version" >/dev/null
  mkdir -p .tools/bin
  ln -sf ../node_modules/pnpm/bin/pnpm.cjs .tools/bin/pnpm
fi

# Debian packages: real Chromium for browser tests and e2e, real nginx for proxy tests, real
# redis-server for the feed tests.
need=()
if [ "$purpose" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
  # Real Redis for the feed tests (sluice-server/redis) and the cluster demo's e2e (npm run demo:cluster
  # needs it and nginx too); each starts its own in a temp dir.
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
  # openssl makes the TLS tests' self-signed certificate; postgresql is the cursor example's database.
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "bootstrap: apt-get install ${need[*]}"
  $sudo apt-get update -qq >/dev/null
  # RUNLEVEL=1 keeps the nginx and redis-server packages from starting system-wide servers.
  $sudo env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "$purpose" = quick ] && [ -d node_modules ]; then exit 0; fi
echo "bootstrap: pnpm install"
.tools/bin/pnpm install --reporter=silent
