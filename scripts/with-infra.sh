#!/usr/bin/env bash
# Runs a command (a benchmark) against a PostgreSQL, RabbitMQ and Firebird of its own under .data/bench, started here
# and stopped afterwards unless they were already running. The infra variables are exported to the command.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

export GEOJOBS_DATA_DIR="${GEOJOBS_BENCH_DATA_DIR:-$PWD/.data/bench}"
export GEOJOBS_PG_PORT="${GEOJOBS_BENCH_PG_PORT:-26432}"
export GEOJOBS_AMQP_PORT="${GEOJOBS_BENCH_AMQP_PORT:-26672}"
export GEOJOBS_RABBITMQ_MGMT_PORT="${GEOJOBS_BENCH_MGMT_PORT:-26673}"
export GEOJOBS_RABBITMQ_DIST_PORT="${GEOJOBS_BENCH_DIST_PORT:-26674}"
# beside the PostgreSQL port (26432 → 26050, 21532 → 21150), as the test harness places its Firebird
export GEOJOBS_FIREBIRD_PORT="${GEOJOBS_BENCH_FIREBIRD_PORT:-$((GEOJOBS_PG_PORT - 382))}"

bash scripts/setup.sh >/dev/null
started=0
bash scripts/infra.sh status >/dev/null || started=1
bash scripts/infra.sh up >/dev/null
eval "$(bash scripts/infra.sh env)"
stop() { if [ "$started" = 1 ]; then bash scripts/infra.sh down >/dev/null; fi; }
trap stop EXIT
"$@"
