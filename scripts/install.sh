#!/usr/bin/env bash
# Installs the system packages geojobs needs (Debian 12): RabbitMQ, PostgreSQL 15 with PostGIS, GDAL, and Firebird 3
# (server and gbak) for converting Firebird databases.
# Idempotent: does nothing when everything is installed. Never prompts (works with CI=true and no stdin).
# Debian's maintainer scripts are kept from starting system-wide services: scripts/infra.sh runs
# private instances from data folders instead, and they need the ports free.
set -euo pipefail

PACKAGES=(rabbitmq-server postgresql-15 postgresql-15-postgis-3 libgdal-dev gdal-bin firebird3.0-server firebird3.0-utils)
POLICY_RC_D=/usr/sbin/policy-rc.d

info() { echo "[install] $*"; }
die() { echo "[install] ERROR: $*" >&2; exit 1; }

installed() { # <package>
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

missing_packages() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || echo "$pkg"
  done
}

setup_sudo() { # SUDO=() as root, else sudo (non-interactive when there is no terminal or in CI)
  SUDO=()
  [[ "$(id -u)" == 0 ]] && return 0
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install ${MISSING[*]} as root"
  if [[ -n "${CI:-}" || ! -t 0 ]]; then SUDO=(sudo -n); else SUDO=(sudo); fi
}

system_postgres_online() { # clusters of the Debian postgresql-common layout that are running
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 "/" $2 }'
}

system_rabbitmq_running() {
  pgrep -u rabbitmq -f beam >/dev/null 2>&1
}

block_service_starts() { # policy-rc.d exit 101 = "action forbidden": postinst scripts start nothing
  if [[ -e "$POLICY_RC_D" ]]; then
    OWN_POLICY=0 # keep an existing one (Docker images ship one) untouched
    return 0
  fi
  OWN_POLICY=1
  printf '#!/bin/sh\n# written by geojobs scripts/install.sh for the duration of apt-get install\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY_RC_D" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY_RC_D"
}

unblock_service_starts() {
  if [[ "${OWN_POLICY:-0}" == 1 ]]; then "${SUDO[@]}" rm -f "$POLICY_RC_D"; fi
  OWN_POLICY=0
}

apt_install() { # <package...>
  info "apt-get update"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >/dev/null
  info "installing $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null >/dev/null
}

stop_started_postgres() { # <clusters online before the install>
  local cluster
  for cluster in $(system_postgres_online); do
    grep -qxF "$cluster" <<<"$1" && continue
    info "stopping system PostgreSQL cluster $cluster started by the package install"
    "${SUDO[@]}" pg_ctlcluster "${cluster%/*}" "${cluster#*/}" stop || true
  done
}

stop_started_rabbitmq() {
  system_rabbitmq_running || return 0
  info "stopping the system RabbitMQ started by the package install"
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl stop rabbitmq-server || true
  else
    "${SUDO[@]}" service rabbitmq-server stop || true
  fi
  if system_rabbitmq_running; then "${SUDO[@]}" pkill -u rabbitmq -f beam || true; fi
}

system_firebird_running() { # Debian's service runs fbguard and firebird as user firebird
  pgrep -u firebird -x 'firebird|fbguard' >/dev/null 2>&1
}

stop_started_firebird() {
  system_firebird_running || return 0
  info "stopping the system Firebird started by the package install"
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl stop firebird3.0 || true
  else
    "${SUDO[@]}" service firebird3.0 stop || true
  fi
  if system_firebird_running; then "${SUDO[@]}" pkill -u firebird -x 'firebird|fbguard' || true; fi
}

main() {
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this installer supports Debian/Ubuntu only"
  mapfile -t MISSING < <(missing_packages)
  if ((${#MISSING[@]} == 0)); then
    info "system packages present: ${PACKAGES[*]}"
    return 0
  fi
  setup_sudo
  local pg_before rabbit_before=0 firebird_before=0
  pg_before="$(system_postgres_online)"
  if system_rabbitmq_running; then rabbit_before=1; fi
  if system_firebird_running; then firebird_before=1; fi
  trap unblock_service_starts EXIT
  block_service_starts
  apt_install "${MISSING[@]}"
  unblock_service_starts
  stop_started_postgres "$pg_before"
  if [[ "$rabbit_before" == 0 ]]; then stop_started_rabbitmq; fi
  if [[ "$firebird_before" == 0 ]]; then stop_started_firebird; fi
  mapfile -t MISSING < <(missing_packages)
  ((${#MISSING[@]} == 0)) || die "still missing after apt-get install: ${MISSING[*]}"
  info "done"
}

main "$@"
