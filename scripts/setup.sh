#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks need, when they are missing:
# chromium (the dashboard's browser test), haproxy (scale-out tests), nginx (the benchmarks' anchor),
# systemd (systemd-analyze checks the unit), nftables (nft -c checks the host firewall recipe) and prometheus
# (its promtool checks and unit-tests deploy/prometheus; its own service is never started), iproute2 (ss reads the
# service's accept queue), faketime (steps the wall clock of a service under test).
# Does nothing when all are there. Not root, or no apt-get: prints the command to run and fails.
set -euo pipefail

# binary:package
required=(
  /usr/bin/chromium:chromium /usr/sbin/haproxy:haproxy /usr/sbin/nginx:nginx
  /usr/bin/systemd-analyze:systemd /usr/sbin/nft:nftables /usr/bin/promtool:prometheus /usr/bin/ss:iproute2
  /usr/bin/faketime:faketime
)

missing=()
for entry in "${required[@]}"; do
  [ -x "${entry%%:*}" ] || missing+=("${entry##*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup: missing Debian packages (${missing[*]}); run:" >&2
  echo "sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

# The nginx, haproxy and prometheus packages start their service on install: nginx binds port 80, and without systemd
# (a container) that can fail the install. A policy-rc.d forbidding starts prevents it; an existing one
# (Docker ships one) is the machine's and is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "setup: installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Should a service have started anyway (an existing policy allowing it), stop it: the tests run their own.
for pkg in "${missing[@]}"; do
  pidfile=/run/$pkg.pid
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "setup: stopping the $pkg service its package started"
    if [ -d /run/systemd/system ]; then systemctl stop "$pkg"; else kill "$(cat "$pidfile")"; fi
  fi
done

for entry in "${required[@]}"; do
  [ -x "${entry%%:*}" ] || { echo "setup: ${entry%%:*} is still missing after installing ${entry##*:}" >&2; exit 1; }
done
echo "setup: done"
