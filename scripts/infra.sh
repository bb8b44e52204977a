#!/usr/bin/env bash
# Local infrastructure for geojobs without Docker: PostgreSQL 15 + PostGIS, RabbitMQ (with the management UI) and
# a Firebird 3 server (export.convert reads Firebird databases through it), each running from a data folder of its own.
#
#   scripts/infra.sh up       start all three (creating data, secrets, roles, database, users on first run)
#   scripts/infra.sh down     stop all three (fine when they are not running)
#   scripts/infra.sh up|down postgres|rabbitmq|firebird   the same for one of them (tests restart the broker alone)
#   scripts/infra.sh up|down rabbitmq-<n>  one node of a RabbitMQ cluster (GEOJOBS_RABBITMQ_NODES > 1), e.g. rabbitmq-2
#   scripts/infra.sh status   "running"/"stopped" for each (exit 0 when all run, 3 otherwise)
#   scripts/infra.sh env      print `export` lines for the services:  eval "$(scripts/infra.sh env)"
#
# Environment (all optional; every address is bound to 127.0.0.1 only):
#   GEOJOBS_DATA_DIR            data folder               (default <repo>/.data/dev)
#   GEOJOBS_PG_PORT             PostgreSQL port           (default 5432)
#   GEOJOBS_DB_NAME             database name             (default geojobs)
#   GEOJOBS_AMQP_PORT           AMQP port                 (default 5672)
#   GEOJOBS_RABBITMQ_MGMT_PORT  management UI/API port    (default 15672)
#   GEOJOBS_RABBITMQ_DIST_PORT  Erlang distribution port  (default AMQP port + 20000, or AMQP port - 10000
#                                                          when that would pass 65535)
#   GEOJOBS_RABBITMQ_NODENAME   Erlang node name          (default geojobs-<amqp port>@localhost)
#   GEOJOBS_RABBITMQ_NODES      RabbitMQ nodes: 1 (default) or more, clustered on this machine. Node <n> (1, 2, …)
#                               is named geojobs-<amqp port>-<n>@localhost, keeps its data in <data>/rabbitmq-<n> and
#                               listens on the AMQP, management and distribution ports above plus (n-1) × the step
#   GEOJOBS_RABBITMQ_PORT_STEP  port distance between two nodes of a cluster (default 10)
#   GEOJOBS_INFRA_TIMEOUT       seconds to wait for each server to start (default 60)
#   GEOJOBS_PG_BIN              PostgreSQL binaries       (default /usr/lib/postgresql/15/bin)
#   GEOJOBS_RABBITMQ_BIN        unwrapped RabbitMQ scripts (default /usr/lib/rabbitmq/bin)
#   GEOJOBS_FIREBIRD_PORT       Firebird port             (default 3050)
#   GEOJOBS_FIREBIRD_BIN        Firebird server binary    (default /usr/sbin/firebird)
#   GEOJOBS_FIREBIRD_LIB        Firebird's own folder     (default /usr/lib/<multiarch>/firebird/3.0: intl, messages)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

DATA_DIR="${GEOJOBS_DATA_DIR:-$REPO_ROOT/.data/dev}"
[[ "$DATA_DIR" == /* ]] || DATA_DIR="$PWD/$DATA_DIR"
PG_PORT="${GEOJOBS_PG_PORT:-5432}"
DB_NAME="${GEOJOBS_DB_NAME:-geojobs}"
AMQP_PORT="${GEOJOBS_AMQP_PORT:-5672}"
MGMT_PORT="${GEOJOBS_RABBITMQ_MGMT_PORT:-15672}"
TIMEOUT="${GEOJOBS_INFRA_TIMEOUT:-60}"
RMQ_NODES="${GEOJOBS_RABBITMQ_NODES:-1}"
RMQ_PORT_STEP="${GEOJOBS_RABBITMQ_PORT_STEP:-10}"
PG_BIN="${GEOJOBS_PG_BIN:-/usr/lib/postgresql/15/bin}"
RMQ_BIN="${GEOJOBS_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}"
FB_PORT="${GEOJOBS_FIREBIRD_PORT:-3050}"
FB_BIN="${GEOJOBS_FIREBIRD_BIN:-/usr/sbin/firebird}"
FB_LIB="${GEOJOBS_FIREBIRD_LIB:-$(compgen -G '/usr/lib/*/firebird/3.0' | head -n1 || true)}"

HOST=127.0.0.1
AMQP_USER=geojobs
FB_USER=SYSDBA
SECRET_KEYS=(PG_SUPERUSER_PASSWORD PG_GATEWAY_PASSWORD PG_GEO_PASSWORD PG_EXPORT_PASSWORD AMQP_PASSWORD JWT_SECRET
  FIREBIRD_SYSDBA_PASSWORD)

SECRETS_FILE="$DATA_DIR/secrets.env"
LOCK_FILE="$DATA_DIR/.infra.lock"
PGDATA="$DATA_DIR/postgres"
PG_LOG="$DATA_DIR/log/postgresql.log"
RMQ_DIR="$DATA_DIR/rabbitmq"
RMQ_HOME="$RMQ_DIR/home"
RMQ_PID_FILE="$RMQ_DIR/rabbitmq.pid"
RMQ_LOG_DIR="$RMQ_DIR/log"
RMQ_STATE_FILE="$RMQ_DIR/running-settings" # "<nodename> <amqp> <mgmt> <dist>" of the node last started
FB_DIR="$DATA_DIR/firebird" # the server's root: its firebird.conf, security database, lock files and temp files
FB_PID_FILE="$FB_DIR/firebird.pid"
FB_LOG="$DATA_DIR/log/firebird.log"

# ---------------------------------------------------------------- helpers

info() { echo "[infra] $*"; }
warn() { echo "[infra] WARNING: $*" >&2; }
die() { echo "[infra] ERROR: $*" >&2; exit 1; }

is_root() { [[ "$(id -u)" == 0 ]]; }

check_port_value() { # <value> <variable name>
  if ! [[ "$1" =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then die "$2='$1' is not a port number (1-65535)"; fi
}

validate_settings() {
  check_port_value "$PG_PORT" GEOJOBS_PG_PORT
  check_port_value "$AMQP_PORT" GEOJOBS_AMQP_PORT
  check_port_value "$MGMT_PORT" GEOJOBS_RABBITMQ_MGMT_PORT
  check_port_value "$DIST_PORT" GEOJOBS_RABBITMQ_DIST_PORT
  check_port_value "$FB_PORT" GEOJOBS_FIREBIRD_PORT
  [[ "$DB_NAME" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "GEOJOBS_DB_NAME='$DB_NAME' must be letters, digits and _"
  [[ "$NODENAME" =~ ^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$ ]] || die "GEOJOBS_RABBITMQ_NODENAME='$NODENAME' is not name@host"
  [[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "GEOJOBS_INFRA_TIMEOUT='$TIMEOUT' is not a number of seconds"
  [[ "$RMQ_NODES" =~ ^[1-9]$ ]] || die "GEOJOBS_RABBITMQ_NODES='$RMQ_NODES' is not a number of nodes (1-9)"
  [[ "$RMQ_PORT_STEP" =~ ^[1-9][0-9]*$ ]] || die "GEOJOBS_RABBITMQ_PORT_STEP='$RMQ_PORT_STEP' is not a positive number"
  local last=$(((RMQ_NODES - 1) * RMQ_PORT_STEP))
  check_port_value $((AMQP_PORT + last)) "GEOJOBS_AMQP_PORT (+ the last node's step)"
  check_port_value $((MGMT_PORT + last)) "GEOJOBS_RABBITMQ_MGMT_PORT (+ the last node's step)"
  check_port_value $((DIST_PORT + last)) "GEOJOBS_RABBITMQ_DIST_PORT (+ the last node's step)"
}

default_dist_port() {
  if ((AMQP_PORT + 20000 <= 65535)); then echo $((AMQP_PORT + 20000)); else echo $((AMQP_PORT - 10000)); fi
}

DIST_PORT="${GEOJOBS_RABBITMQ_DIST_PORT:-$( [[ "$AMQP_PORT" =~ ^[0-9]+$ ]] && default_dist_port || echo "$AMQP_PORT")}"
NODENAME="${GEOJOBS_RABBITMQ_NODENAME:-geojobs-$AMQP_PORT@localhost}"
[[ "$NODENAME" == *@* ]] || NODENAME="$NODENAME@localhost"

port_in_use() { # <port>: something accepts connections on 127.0.0.1:<port>
  # shellcheck disable=SC2016 # $0 is expanded by the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}

port_owner() { # <port>: best-effort description of the listening process
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "( sport = :$1 )" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/(\1, pid \2)/p;T;q' || true
}

require_free_port() { # <port> <variable name> <what>
  port_in_use "$1" || return 0
  local owner
  owner="$(port_owner "$1")"
  die "port $1 ($3) is already in use by another process${owner:+ $owner}; stop it or set $2 to a free port"
}

proc_is() { # <pid> <command name prefix>: a live (not zombie) process of that name
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ "${stat##*) }" != Z* && "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2"* ]]
}

random_hex() { od -An -tx1 -N"${1:-24}" /dev/urandom | tr -d ' \n'; }

take_lock() { # one infra.sh at a time per data dir; servers we start must not inherit fd 9
  mkdir -p "$DATA_DIR"
  exec 9>"$LOCK_FILE"
  flock -n 9 && return 0
  info "waiting for another infra.sh working on $DATA_DIR"
  flock -w 300 9 || die "another infra.sh is still busy with $DATA_DIR (lock $LOCK_FILE)"
}

# ---------------------------------------------------------------- secrets

ensure_secrets() {
  if [[ ! -f "$SECRETS_FILE" ]]; then
    [[ -f "$PGDATA/PG_VERSION" ]] &&
      die "$SECRETS_FILE is missing but $PGDATA exists: its passwords are lost; remove $DATA_DIR to start afresh"
    info "creating $SECRETS_FILE"
  fi
  local key
  for key in "${SECRET_KEYS[@]}"; do
    grep -q "^$key=" "$SECRETS_FILE" 2>/dev/null || (umask 077 && echo "$key=$(random_hex 24)" >>"$SECRETS_FILE")
  done
  chmod 600 "$SECRETS_FILE"
}

load_secrets() {
  [[ -r "$SECRETS_FILE" ]] || die "no $SECRETS_FILE; run 'scripts/infra.sh up' first"
  local key value
  while IFS='=' read -r key value; do
    if [[ " ${SECRET_KEYS[*]} " == *" $key "* ]]; then printf -v "$key" '%s' "$value"; fi
  done <"$SECRETS_FILE"
  for key in "${SECRET_KEYS[@]}"; do
    [[ -n "${!key:-}" ]] || die "$SECRETS_FILE has no $key; run 'scripts/infra.sh up'"
  done
}

# ---------------------------------------------------------------- PostgreSQL

as_pg() { # run a command as the owner of the cluster (user postgres when we are root)
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_own() { # <path...>: hand paths to the postgres user when root
  if is_root; then chown postgres:postgres "$@"; fi
}

pg_socket_dir() { # the data dir, unless its path is too long for a unix socket
  if ((${#PGDATA} + 20 < 108)); then echo "$PGDATA"; fi
}

pg_running() { # the postmaster named in postmaster.pid is alive and serves PGDATA (not a zombie, not a reused pid)
  local pid cwd
  pid="$(head -n1 "$PGDATA/postmaster.pid" 2>/dev/null)" && proc_is "$pid" postgres || return 1
  cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)" || return 0
  [[ "$cwd" == "$(cd "$PGDATA" && pwd -P)" ]]
}

pg_running_port() { sed -n 4p "$PGDATA/postmaster.pid" 2>/dev/null; }

pg_clear_stale_pid() {
  [[ -f "$PGDATA/postmaster.pid" ]] || return 0
  warn "removing stale $PGDATA/postmaster.pid (PostgreSQL was not shut down cleanly)"
  rm -f "$PGDATA/postmaster.pid" "$PGDATA"/.s.PGSQL.*.lock
}

pg_initdb() {
  [[ -f "$PGDATA/PG_VERSION" ]] && return 0
  [[ -x "$PG_BIN/initdb" ]] || die "no $PG_BIN/initdb; run scripts/install.sh (or set GEOJOBS_PG_BIN)"
  info "initialising PostgreSQL in $PGDATA"
  local tmp="$PGDATA.initdb" pwfile="$DATA_DIR/.pg-superuser-pw"
  rm -rf "$tmp"
  mkdir -p "$tmp" && chmod 700 "$tmp"
  (umask 077 && printf '%s\n' "$PG_SUPERUSER_PASSWORD" >"$pwfile")
  pg_own "$tmp" "$pwfile"
  as_pg "$PG_BIN/initdb" -D "$tmp" -U postgres --pwfile="$pwfile" --auth-local=peer \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$DATA_DIR/log/initdb.log" 2>&1 ||
    { rm -f "$pwfile"; die "initdb failed, see $DATA_DIR/log/initdb.log"; }
  rm -f "$pwfile"
  echo "include_if_exists = 'geojobs.conf'" >>"$tmp/postgresql.conf"
  mv "$tmp" "$PGDATA"
}

pg_write_conf() { # settings re-written on every up, picked up at (re)start
  cat >"$PGDATA/geojobs.conf" <<EOF
# Written by scripts/infra.sh on every 'up'; local edits are overwritten.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$(pg_socket_dir)'
max_connections = 300
shared_buffers = 128MB
fsync = on
password_encryption = scram-sha-256
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 2000
EOF
  pg_own "$PGDATA/geojobs.conf"
}

pg_start() {
  if pg_running; then
    local running_port
    running_port="$(pg_running_port)"
    if [[ "$running_port" == "$PG_PORT" ]]; then
      info "PostgreSQL already running on $HOST:$PG_PORT"
      return 0
    fi
    info "PostgreSQL is running on port $running_port, restarting on $PG_PORT"
    pg_stop
  fi
  require_free_port "$PG_PORT" GEOJOBS_PG_PORT PostgreSQL
  pg_clear_stale_pid
  pg_write_conf
  touch "$PG_LOG" && pg_own "$PG_LOG"
  info "starting PostgreSQL on $HOST:$PG_PORT (log $PG_LOG)"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w -t "$TIMEOUT" start >/dev/null 9>&- ||
    die "PostgreSQL did not start within ${TIMEOUT}s; see $PG_LOG:
$(tail -n 15 "$PG_LOG" 2>/dev/null)"
}

pg_admin_psql() { # <database> [psql args...]: psql as the superuser over TCP
  local db="$1"
  shift
  PGPASSWORD="$PG_SUPERUSER_PASSWORD" PGOPTIONS='-c client_min_messages=warning' \
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres -d "$db" "$@"
}

pg_provision() { # login roles (passwords re-set each run), database, postgis
  pg_admin_psql postgres \
    -v gateway_pw="$PG_GATEWAY_PASSWORD" -v geo_pw="$PG_GEO_PASSWORD" -v export_pw="$PG_EXPORT_PASSWORD" \
    -v db="$DB_NAME" >/dev/null <<'SQL' || die "could not create the PostgreSQL roles/database (log $PG_LOG)"
SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['geojobs_gateway', 'geojobs_geo', 'geojobs_export']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE geojobs_gateway WITH LOGIN PASSWORD :'gateway_pw';
ALTER ROLE geojobs_geo WITH LOGIN PASSWORD :'geo_pw';
ALTER ROLE geojobs_export WITH LOGIN PASSWORD :'export_pw';
SELECT format('CREATE DATABASE %I OWNER postgres', :'db')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
  pg_admin_psql "$DB_NAME" -c 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null ||
    die "could not create the postgis extension in $DB_NAME (is postgresql-15-postgis-3 installed?)"
}

pg_up() {
  mkdir -p "$DATA_DIR/log"
  is_root && ! as_pg test -x "$DATA_DIR" &&
    die "user postgres cannot reach $DATA_DIR (a parent folder is not traversable); set GEOJOBS_DATA_DIR elsewhere"
  pg_initdb
  pg_start
  pg_provision
}

pg_stop() {
  pg_running || return 0
  info "stopping PostgreSQL ($PGDATA)"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t "$TIMEOUT" stop >/dev/null
}

# ---------------------------------------------------------------- RabbitMQ

# The node this script works on: the only one, or node <n> of a cluster (rmq_select).
BASE_AMQP_PORT="$AMQP_PORT"
BASE_MGMT_PORT="$MGMT_PORT"
BASE_DIST_PORT="$DIST_PORT"
BASE_NODENAME="$NODENAME"
RMQ_COOKIE_FILE="$DATA_DIR/rabbitmq-cookie" # one Erlang cookie for every node of a cluster

rmq_env() {
  RMQ_ENV=(
  HOME="$RMQ_HOME"
  RABBITMQ_NODENAME="$NODENAME"
  RABBITMQ_DIST_PORT="$DIST_PORT"
  RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia"
  RABBITMQ_LOG_BASE="$RMQ_LOG_DIR"
  RABBITMQ_PID_FILE="$RMQ_PID_FILE"
  RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
  RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
  RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
  RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
  ERL_EPMD_ADDRESS="$HOST"
  ERL_CRASH_DUMP="$RMQ_LOG_DIR/erl_crash.dump"
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  # rabbitmqctl's own distribution ports: next to the node's, not the shared default range (35672-35682), where the
  # CLIs of every broker on the machine compete and wait for each other
  RABBITMQ_CTL_DIST_PORT_MIN="$((DIST_PORT + 1))"
  RABBITMQ_CTL_DIST_PORT_MAX="$((DIST_PORT + 5))"
  )
}
rmq_env

clustered() { ((RMQ_NODES > 1)); }

rmq_node_name() { # <n>: the Erlang name of node <n> of the cluster
  echo "${BASE_NODENAME%@*}-$1@${BASE_NODENAME#*@}"
}

rmq_select() { # <n>: point every RabbitMQ setting at node <n> (a single node keeps its historical layout)
  clustered || return 0
  local offset=$((($1 - 1) * RMQ_PORT_STEP))
  RMQ_NODE_INDEX="$1"
  AMQP_PORT=$((BASE_AMQP_PORT + offset))
  MGMT_PORT=$((BASE_MGMT_PORT + offset))
  DIST_PORT=$((BASE_DIST_PORT + offset))
  NODENAME="$(rmq_node_name "$1")"
  RMQ_DIR="$DATA_DIR/rabbitmq-$1"
  RMQ_HOME="$RMQ_DIR/home"
  RMQ_PID_FILE="$RMQ_DIR/rabbitmq.pid"
  RMQ_LOG_DIR="$RMQ_DIR/log"
  RMQ_STATE_FILE="$RMQ_DIR/running-settings"
  rmq_env
}

rmq_node_list() { # the nodes a component names: rabbitmq → all, rabbitmq-<n> → <n>
  if [[ "$1" == rabbitmq-* ]]; then
    echo "${1#rabbitmq-}"
  else
    seq 1 "$RMQ_NODES"
  fi
}

rmq() { # <script> [args...]: a RabbitMQ script with this instance's environment
  local script="$1"
  shift
  env -u RABBITMQ_NODE_PORT -u RABBITMQ_NODE_IP_ADDRESS -u RABBITMQ_USE_LONGNAME \
    "${RMQ_ENV[@]}" "$RMQ_BIN/$script" "$@"
}

rmqctl() { rmq rabbitmqctl -q "$@"; }

rmq_pid() { # pid of our running broker, if any
  local pid
  pid="$(cat "$RMQ_PID_FILE" 2>/dev/null)" && proc_is "$pid" beam || return 1
  if [[ -r "/proc/$pid/environ" ]]; then # and it is ours, not a reused pid
    grep -qxF "RABBITMQ_PID_FILE=$RMQ_PID_FILE" < <(tr '\0' '\n' <"/proc/$pid/environ") || return 1
  fi
  echo "$pid"
}

rmq_running() { rmq_pid >/dev/null; }

rmq_log() { echo "$RMQ_LOG_DIR/$NODENAME.log"; }

rmq_write_files() {
  mkdir -p "$RMQ_HOME" "$RMQ_DIR/mnesia" "$RMQ_LOG_DIR"
  if clustered; then # the nodes of a cluster must share one cookie
    if [[ ! -f "$RMQ_COOKIE_FILE" ]]; then
      (umask 077 && random_hex 20 | tr 'a-f' 'A-F' >"$RMQ_COOKIE_FILE")
    fi
    if ! cmp -s "$RMQ_COOKIE_FILE" "$RMQ_HOME/.erlang.cookie"; then
      rm -f "$RMQ_HOME/.erlang.cookie"
      cp "$RMQ_COOKIE_FILE" "$RMQ_HOME/.erlang.cookie"
    fi
    chmod 400 "$RMQ_HOME/.erlang.cookie"
  elif [[ ! -f "$RMQ_HOME/.erlang.cookie" ]]; then
    (umask 077 && random_hex 20 | tr 'a-f' 'A-F' >"$RMQ_HOME/.erlang.cookie")
    chmod 400 "$RMQ_HOME/.erlang.cookie"
  fi
  echo '[rabbitmq_management].' >"$RMQ_DIR/enabled_plugins"
  (umask 077 && cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# Written by scripts/infra.sh on every 'up'; local edits are overwritten.
listeners.tcp.default = $HOST:$AMQP_PORT
management.tcp.ip = $HOST
management.tcp.port = $MGMT_PORT
# The first boot creates this user instead of 'guest'; infra.sh re-applies it on every up.
default_user = $AMQP_USER
default_pass = $AMQP_PASSWORD
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.file.level = info
log.console = false
EOF
  )
}

rmq_launch() {
  local startup_log="$RMQ_LOG_DIR/startup.log"
  info "starting RabbitMQ node $NODENAME on $HOST:$AMQP_PORT (log $(rmq_log))"
  (cd "$RMQ_DIR" && exec setsid -w nohup env -u RABBITMQ_NODE_PORT -u RABBITMQ_NODE_IP_ADDRESS \
    -u RABBITMQ_USE_LONGNAME "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmq-server" >"$startup_log" 2>&1 </dev/null 9>&-) &
  RMQ_LAUNCHER_PID=$!
}

rmq_fail() { # <reason>
  die "$1; see $(rmq_log) and $RMQ_LOG_DIR/startup.log:
$(tail -n 15 "$RMQ_LOG_DIR/startup.log" 2>/dev/null)"
}

rmq_await() { # until the node answers and has booted, or TIMEOUT
  local deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    if [[ -n "${RMQ_LAUNCHER_PID:-}" ]] && ! kill -0 "$RMQ_LAUNCHER_PID" 2>/dev/null; then
      rmq_fail "RabbitMQ exited while starting"
    fi
    # The AMQP listener opens at the end of the boot, once the node is ready: cheaper to check than a rabbitmqctl call.
    if rmq_running && port_in_use "$AMQP_PORT"; then
      return 0
    fi
    sleep 1
  done
  rmq_fail "RabbitMQ did not start within ${TIMEOUT}s"
}

rmq_settings() { echo "$NODENAME $AMQP_PORT $MGMT_PORT $DIST_PORT"; }

rmq_running_node() { # node name of the broker last started from this data dir
  local node _
  read -r node _ 2>/dev/null <"$RMQ_STATE_FILE" && echo "$node" || echo "$NODENAME"
}

rmq_begin() { # launches the selected node unless it runs already; rmq_await waits for it
  RMQ_LAUNCHER_PID=
  if rmq_running && [[ "$(cat "$RMQ_STATE_FILE" 2>/dev/null)" != "$(rmq_settings)" ]]; then
    info "RabbitMQ is running with other settings ($(cat "$RMQ_STATE_FILE" 2>/dev/null)), restarting"
    rmq_stop
  fi
  if rmq_running; then
    info "RabbitMQ already running as $NODENAME on $HOST:$AMQP_PORT"
  else
    require_free_port "$AMQP_PORT" GEOJOBS_AMQP_PORT "RabbitMQ AMQP"
    require_free_port "$MGMT_PORT" GEOJOBS_RABBITMQ_MGMT_PORT "RabbitMQ management"
    require_free_port "$DIST_PORT" GEOJOBS_RABBITMQ_DIST_PORT "RabbitMQ Erlang distribution"
    [[ -x "$RMQ_BIN/rabbitmq-server" ]] || die "no $RMQ_BIN/rabbitmq-server; run scripts/install.sh"
    rmq_write_files
    rmq_settings >"$RMQ_STATE_FILE"
    rmq_launch
  fi
}

rmq_user_ok() { # fast check through the management API: user, password, tag and permissions are right
  command -v curl >/dev/null 2>&1 || return 1
  local base="http://$HOST:$MGMT_PORT/api" auth="$AMQP_USER:$AMQP_PASSWORD" me perms
  me="$(curl -fsS -m 5 -u "$auth" "$base/whoami" 2>/dev/null)" &&
    perms="$(curl -fsS -m 5 -u "$auth" "$base/permissions/%2F/$AMQP_USER" 2>/dev/null)" &&
    [[ "$me" == *'"administrator"'* && "$perms" == *'"configure":".*","write":".*","read":".*"'* ]]
}

rmq_provision() {
  rmq_user_ok && return 0
  info "setting up RabbitMQ user $AMQP_USER"
  local verb=add_user # the password goes through stdin, not the process list
  local users
  users="$(rmqctl list_users)"
  if grep -q "^${AMQP_USER}[[:space:]]" <<<"$users"; then verb=change_password; fi
  printf '%s\n' "$AMQP_PASSWORD" | rmqctl "$verb" "$AMQP_USER" >/dev/null
  rmqctl set_user_tags "$AMQP_USER" administrator >/dev/null
  rmqctl set_permissions -p / "$AMQP_USER" '.*' '.*' '.*' >/dev/null
}

rmq_join() { # <n>: node <n> joins node 1's cluster unless it is a member already
  rmq_select "$1"
  local first
  first="$(rmq_node_name 1)"
  [[ "$(cat "$RMQ_DIR/joined" 2>/dev/null)" == "$first" ]] && return 0 # it keeps its membership across restarts
  if rmqctl cluster_status --formatter json 2>/dev/null | grep -qF "\"$first\""; then
    echo "$first" >"$RMQ_DIR/joined"
    return 0
  fi
  info "RabbitMQ node $NODENAME joins the cluster of $first"
  { rmqctl stop_app && rmqctl reset && rmqctl join_cluster "$first" && rmqctl start_app; } >>"$RMQ_LOG_DIR/join.log" 2>&1 ||
    rmq_fail "RabbitMQ node $NODENAME could not join $first"
  echo "$first" >"$RMQ_DIR/joined"
}

rmq_up() { # <n>...: the nodes to start; launched together, since a restarted cluster's nodes wait for each other
  local n
  local -A launchers=()
  for n in "$@"; do
    rmq_select "$n"
    rmq_begin
    launchers[$n]="$RMQ_LAUNCHER_PID"
  done
  for n in "$@"; do
    rmq_select "$n"
    RMQ_LAUNCHER_PID="${launchers[$n]}"
    rmq_await
  done
  if clustered; then
    for n in "$@"; do if ((n > 1)); then rmq_join "$n"; fi; done
  fi
  rmq_select "$1" # users and permissions are cluster-wide: any running node can set them
  rmq_provision
}

epmd_cleanup() { # stop the Erlang port mapper once no node uses it any more
  command -v epmd >/dev/null 2>&1 || return 0
  local names
  names="$(ERL_EPMD_ADDRESS="$HOST" epmd -names 2>/dev/null)" || return 0
  grep -q '^name ' <<<"$names" || epmd -kill >/dev/null 2>&1 || true
}

rmq_stop() {
  local pid node
  pid="$(rmq_pid)" || return 0
  node="$(rmq_running_node)"
  info "stopping RabbitMQ node $node"
  if ! rmqctl -n "$node" shutdown --timeout "$TIMEOUT" >/dev/null 2>&1; then
    warn "rabbitmqctl shutdown failed, sending SIGTERM to $pid"
    kill -TERM "$pid" 2>/dev/null || true
  fi
  local deadline=$((SECONDS + TIMEOUT))
  while proc_is "$pid" beam; do
    ((SECONDS < deadline)) || { warn "RabbitMQ ($pid) ignores SIGTERM, killing it"; kill -KILL "$pid"; }
    sleep 0.5
  done
  epmd_cleanup
}

# ---------------------------------------------------------------- Firebird
#
# Debian's system-wide Firebird service stays off (scripts/install.sh keeps it from starting): this server runs from
# $FB_DIR, which FIREBIRD= makes the engine's root (its own firebird.conf, databases.conf and security database) and
# FIREBIRD_LOCK its lock folder. It runs as the user that runs this script, which is the user that runs export-service:
# export.convert restores and attaches databases in the job's scratch folder, which the server must read and write.
# It listens on 127.0.0.1 only and takes SYSDBA with the password of secrets.env.

FB_ENV=(FIREBIRD="$FB_DIR" FIREBIRD_LOCK="$FB_DIR/lock" FIREBIRD_TMP="$FB_DIR/tmp")

fb_pid() { # pid of our running server, if any (not a reused pid, not another instance)
  local pid
  pid="$(head -n1 "$FB_PID_FILE" 2>/dev/null)" && proc_is "$pid" firebird || return 1
  if [[ -r "/proc/$pid/environ" ]]; then
    grep -qxF "FIREBIRD=$FB_DIR" < <(tr '\0' '\n' <"/proc/$pid/environ") || return 1
  fi
  echo "$pid"
}

fb_running() { fb_pid >/dev/null; }

fb_running_port() { sed -n 2p "$FB_PID_FILE" 2>/dev/null; }

fb_write_files() { # settings re-written on every start
  [[ -x "$FB_BIN" ]] || die "no $FB_BIN; run scripts/install.sh (or set GEOJOBS_FIREBIRD_BIN)"
  [[ -n "$FB_LIB" && -f "$FB_LIB/firebird.msg" && -f "$FB_LIB/intl/libfbintl.so" ]] ||
    die "no Firebird 3 folder at '$FB_LIB'; run scripts/install.sh (or set GEOJOBS_FIREBIRD_LIB)"
  command -v isql-fb >/dev/null 2>&1 || die "no isql-fb; run scripts/install.sh"
  mkdir -p "$FB_DIR/lock" "$FB_DIR/tmp" "$FB_DIR/intl" "$DATA_DIR/log"
  chmod 700 "$FB_DIR"
  ln -sfn "$FB_LIB/firebird.msg" "$FB_DIR/firebird.msg"
  # The engine loads its character sets from <root>/intl and refuses a module whose real path lies elsewhere:
  # a copy, refreshed when the package changes it.
  cmp -s "$FB_LIB/intl/libfbintl.so" "$FB_DIR/intl/libfbintl.so" || cp "$FB_LIB/intl/libfbintl.so" "$FB_DIR/intl/libfbintl.so"
  cat >"$FB_DIR/firebird.conf" <<EOF
# Written by scripts/infra.sh on every 'up'; local edits are overwritten.
RemoteBindAddress = $HOST
RemoteServicePort = $FB_PORT
SecurityDatabase = $FB_DIR/security3.fdb
AuthServer = Srp256, Srp
UserManager = Srp
# node-firebird and gbak both encrypt the wire; Enabled (not Required) also lets older clients in.
WireCrypt = Enabled
# The databases this server opens come from users: no UDF libraries, no external table files, no UDR modules
# (plugins.conf is empty).
UdfAccess = None
ExternalFileAccess = None
TempDirectories = $FB_DIR/tmp
EOF
  cat >"$FB_DIR/databases.conf" <<EOF
# Written by scripts/infra.sh on every 'up'; local edits are overwritten.
security.db = $FB_DIR/security3.fdb
{
  RemoteAccess = false
}
EOF
  echo '# Written by scripts/infra.sh: no plugins beyond the built-in ones.' >"$FB_DIR/plugins.conf"
}

fb_embedded_query() { # SQL on stdin, run by the engine inside isql itself (only while the server is stopped); prints its output
  (cd "$FB_DIR" && env "${FB_ENV[@]}" isql-fb -q -bail -user "$FB_USER" "$@") 2>>"$FB_LOG" 9>&-
}

fb_embedded_isql() { # the same, its output to the log
  fb_embedded_query "$@" >>"$FB_LOG"
}

fb_provision() { # the security database, and SYSDBA's password (re-set on every start, so it follows secrets.env)
  if [[ ! -f "$FB_DIR/security3.fdb" ]]; then
    info "creating the Firebird security database in $FB_DIR"
    rm -f "$FB_DIR/security3.fdb.new"
    echo "CREATE DATABASE '$FB_DIR/security3.fdb.new';" | fb_embedded_isql ||
      die "could not create the Firebird security database; see $FB_LOG"
    mv "$FB_DIR/security3.fdb.new" "$FB_DIR/security3.fdb"
  fi
  # node-firebird (2.17) reads the server's SRP key from a 4-byte-aligned offset after the salt, right only when the
  # salt's hex has 64 digits: for a salt whose first byte is below 0x10 (1 user in 16) every login of node-firebird
  # fails. Setting the password draws a new salt: it is set again until the salt is whole.
  local attempt first
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    # The password goes through stdin, not the process list.
    printf "CREATE OR ALTER USER %s PASSWORD '%s' USING PLUGIN Srp;\nCOMMIT;\n" "$FB_USER" "$FIREBIRD_SYSDBA_PASSWORD" |
      fb_embedded_isql "$FB_DIR/security3.fdb" || die "could not set the Firebird $FB_USER password; see $FB_LOG"
    first="$(echo "SET HEADING OFF; SELECT ascii_val(PLG\$SALT) FROM PLG\$SRP WHERE PLG\$USER_NAME = '$FB_USER';" |
      fb_embedded_query "$FB_DIR/security3.fdb" | tr -d '[:space:]')"
    [[ "$first" =~ ^[0-9]+$ ]] || die "could not read the Firebird $FB_USER salt; see $FB_LOG"
    ((first >= 16)) && return 0
  done
  die "the Firebird $FB_USER salt began with a zero digit 10 times over"
}

fb_login_ok() { # the server answers and takes our password
  (cd "$FB_DIR" && ISC_USER="$FB_USER" ISC_PASSWORD="$FIREBIRD_SYSDBA_PASSWORD" \
    fbsvcmgr "$HOST/$FB_PORT:service_mgr" info_server_version) >/dev/null 2>&1 9>&-
}

fb_start() {
  if fb_running; then
    if [[ "$(fb_running_port)" == "$FB_PORT" ]]; then
      info "Firebird already running on $HOST:$FB_PORT"
      return 0
    fi
    info "Firebird is running on port $(fb_running_port), restarting on $FB_PORT"
    fb_stop
  fi
  require_free_port "$FB_PORT" GEOJOBS_FIREBIRD_PORT Firebird
  fb_write_files
  fb_provision
  info "starting Firebird on $HOST:$FB_PORT (log $FB_LOG)"
  (cd "$FB_DIR" && exec setsid env "${FB_ENV[@]}" "$FB_BIN" >>"$FB_LOG" 2>&1 </dev/null 9>&-) &
  local pid=$!
  printf '%s\n%s\n' "$pid" "$FB_PORT" >"$FB_PID_FILE"
  local deadline=$((SECONDS + TIMEOUT))
  until fb_login_ok; do
    kill -0 "$pid" 2>/dev/null || die "Firebird exited while starting; see $FB_LOG:
$(tail -n 15 "$FB_LOG" 2>/dev/null)"
    ((SECONDS < deadline)) || die "Firebird did not start within ${TIMEOUT}s; see $FB_LOG"
    sleep 0.2
  done
}

fb_stop() {
  local pid
  pid="$(fb_pid)" || { rm -f "$FB_PID_FILE"; return 0; }
  info "stopping Firebird ($FB_DIR)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + TIMEOUT))
  while proc_is "$pid" firebird; do
    ((SECONDS < deadline)) || { warn "Firebird ($pid) ignores SIGTERM, killing it"; kill -KILL "$pid"; }
    sleep 0.2
  done
  rm -f "$FB_PID_FILE"
}

# ---------------------------------------------------------------- commands

cmd_up() { # $1: all|postgres|rabbitmq|rabbitmq-<n>|firebird
  take_lock
  ensure_secrets
  load_secrets
  if [[ "$1" == all || "$1" == postgres ]]; then
    pg_up
    info "PostgreSQL: postgres://$HOST:$PG_PORT/$DB_NAME (data $PGDATA)"
  fi
  if [[ "$1" == all || "$1" == rabbitmq* ]]; then
    local n
    # shellcheck disable=SC2046 # node numbers, one word each
    rmq_up $(rmq_node_list "$1")
    for n in $(rmq_node_list "$1"); do
      rmq_select "$n"
      info "AMQP: amqp://$HOST:$AMQP_PORT (user $AMQP_USER, node $NODENAME)"
      info "RabbitMQ management UI: http://$HOST:$MGMT_PORT/ (user $AMQP_USER; passwords in $SECRETS_FILE)"
    done
  fi
  if [[ "$1" == all || "$1" == firebird ]]; then
    fb_start
    info "Firebird: $HOST/$FB_PORT (user $FB_USER; data $FB_DIR)"
  fi
}

cmd_down() { # $1: all|postgres|rabbitmq|rabbitmq-<n>|firebird
  [[ -d "$DATA_DIR" ]] || { info "nothing to stop in $DATA_DIR"; return 0; }
  take_lock
  if [[ "$1" == all || "$1" == firebird ]]; then fb_stop; fi
  if [[ "$1" == all || "$1" == rabbitmq* ]]; then
    # The nodes of a cluster stop together: one by one, the last ones wait for quorum queues that lost their majority.
    local n pids=() failed=0
    for n in $(rmq_node_list "$1"); do
      (rmq_select "$n" && rmq_stop) &
      pids+=("$!")
    done
    for n in "${pids[@]}"; do wait "$n" || failed=1; done
    ((failed == 0)) || die "a RabbitMQ node did not stop"
  fi
  if [[ "$1" == all || "$1" == postgres ]]; then pg_stop; fi
  info "stopped $1 ($DATA_DIR)"
}

cmd_status() { # one write, so `infra.sh status | grep -q ...` never meets SIGPIPE; "stopped", never "not running"
  local rc=0 pid out
  if pg_running; then
    out="[infra] PostgreSQL: running (pid $(head -n1 "$PGDATA/postmaster.pid")) on $HOST:$(pg_running_port), data $PGDATA"
  else
    out="[infra] PostgreSQL: stopped (data $PGDATA)"
    rc=3
  fi
  local n label=RabbitMQ
  for n in $(rmq_node_list rabbitmq); do
    rmq_select "$n"
    if clustered; then label="RabbitMQ node $n"; fi
    if pid="$(rmq_pid)"; then
      local node="$NODENAME" amqp="$AMQP_PORT" mgmt="$MGMT_PORT" _
      read -r node amqp mgmt _ 2>/dev/null <"$RMQ_STATE_FILE" || true
      out+=$'\n'"[infra] $label: running (pid $pid) as $node on $HOST:$amqp, management http://$HOST:$mgmt/"
    else
      out+=$'\n'"[infra] $label: stopped (data $RMQ_DIR)"
      rc=3
    fi
  done
  if pid="$(fb_pid)"; then
    out+=$'\n'"[infra] Firebird: running (pid $pid) on $HOST:$(fb_running_port), data $FB_DIR"
  else
    out+=$'\n'"[infra] Firebird: stopped (data $FB_DIR)"
    rc=3
  fi
  printf '%s\n' "$out"
  return "$rc"
}

cmd_env() {
  load_secrets
  local pg="$HOST:$PG_PORT/$DB_NAME" n amqp_urls=() mgmt_urls=()
  for n in $(rmq_node_list rabbitmq); do
    rmq_select "$n"
    amqp_urls+=("amqp://$AMQP_USER:$AMQP_PASSWORD@$HOST:$AMQP_PORT")
    mgmt_urls+=("http://$AMQP_USER:$AMQP_PASSWORD@$HOST:$MGMT_PORT")
  done
  cat <<EOF
export GEOJOBS_PG_HOST='$HOST'
export GEOJOBS_PG_PORT='$PG_PORT'
export GEOJOBS_DB_NAME='$DB_NAME'
export GEOJOBS_AMQP_URL='$(IFS=,; echo "${amqp_urls[*]}")'
export GEOJOBS_RABBITMQ_MGMT_URL='${mgmt_urls[0]}'
export GEOJOBS_RABBITMQ_MGMT_URLS='$(IFS=,; echo "${mgmt_urls[*]}")'
export GEOJOBS_ADMIN_DATABASE_URL='postgres://postgres:$PG_SUPERUSER_PASSWORD@$pg'
export GEOJOBS_GATEWAY_DATABASE_URL='postgres://geojobs_gateway:$PG_GATEWAY_PASSWORD@$pg'
export GEOJOBS_GEO_DATABASE_URL='postgres://geojobs_geo:$PG_GEO_PASSWORD@$pg'
export GEOJOBS_EXPORT_DATABASE_URL='postgres://geojobs_export:$PG_EXPORT_PASSWORD@$pg'
export GEOJOBS_JWT_SECRET='$JWT_SECRET'
export GEOJOBS_FIREBIRD_HOST='$HOST'
export GEOJOBS_FIREBIRD_PORT='$FB_PORT'
export GEOJOBS_FIREBIRD_USER='$FB_USER'
export GEOJOBS_FIREBIRD_PASSWORD='$FIREBIRD_SYSDBA_PASSWORD'
EOF
}

usage() {
  echo "usage: scripts/infra.sh up|down [postgres|rabbitmq|rabbitmq-<n>|firebird] | status | env   (settings: see the top of this file)" >&2
  exit 2
}

main() {
  (($# == 1 || $# == 2)) || usage
  local component="${2:-all}"
  [[ "$component" =~ ^(all|postgres|rabbitmq|rabbitmq-[1-9]|firebird)$ ]] || usage
  validate_settings
  if [[ "$component" == rabbitmq-* ]] && ((${component#rabbitmq-} > RMQ_NODES)); then
    die "there is no $component: GEOJOBS_RABBITMQ_NODES is $RMQ_NODES"
  fi
  case "$1" in
    up) cmd_up "$component" ;;
    down) cmd_down "$component" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
