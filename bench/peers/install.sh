#!/usr/bin/env bash
# The peers bench:peers compares geojobs with, from Debian: redis-server (BullMQ's store and Celery's result
# backend) and Celery with its Redis client. Idempotent and non-interactive: nothing is done when they are there.
# bullmq comes from npm (a devDependency). Needs root (or sudo) for apt-get the first time.
set -euo pipefail
packages=(redis-server python3-celery python3-redis)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0
sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)
echo "[peers] installing ${missing[*]} from Debian"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq -o DPkg::Lock::Timeout=300 >/dev/null
"${sudo[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
# Debian may start a system redis-server: the bench runs its own, on its own port
if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then "${sudo[@]}" systemctl stop redis-server; fi
