#!/usr/bin/env bash
# Runs a command (a benchmark) against a PostgreSQL and RabbitMQ of its own under .data/bench, started here
# and stopped afterwards unless they were already running. The infra variables are exported to the command.
set -euo pipefail
cd "$(dirname "$0")/.."

export GEOJOBS_DATA_DIR="${GEOJOBS_BENCH_DATA_DIR:-$PWD/.data/bench}"
export GEOJOBS_PG_PORT="${GEOJOBS_BENCH_PG_PORT:-56432}"
export GEOJOBS_AMQP_PORT="${GEOJOBS_BENCH_AMQP_PORT:-56672}"
export GEOJOBS_RABBITMQ_MGMT_PORT="${GEOJOBS_BENCH_MGMT_PORT:-56673}"

bash scripts/setup.sh >/dev/null
started=0
bash scripts/infra.sh status >/dev/null || started=1
bash scripts/infra.sh up >/dev/null
eval "$(bash scripts/infra.sh env)"
stop() { if [ "$started" = 1 ]; then bash scripts/infra.sh down >/dev/null; fi; }
trap stop EXIT
"$@"
