#!/usr/bin/env bash
# Runs a command on Node.js 24 LTS, the project's one runtime: as it is when this machine's node is 24.9 or
# later; otherwise on Node.js 24 from the npm registry's `node` package (npx keeps it in npm's cache after the
# first run), saying so in one line. `npm start`, `npm test`, `npm run bench` and .ci/run go through here.
#   bash scripts/node24.sh <command> [args...]
set -euo pipefail

version=$(node -p process.versions.node 2>/dev/null || echo 0.0.0)
IFS=. read -r major minor _ <<<"$version"
if ((major > 24 || (major == 24 && minor >= 9))); then
  exec "$@"
fi
echo "sc-spawner: this machine has Node.js v$version; running on Node.js 24 LTS from the npm registry's node package" >&2
exec npx --yes --package=node@24 -- "$@"
