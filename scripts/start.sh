#!/usr/bin/env bash
# `npm start`: sets up what is missing, starts PostgreSQL/PostGIS and RabbitMQ (project-local data under
# .data/dev), migrates, then runs the four services in the foreground. Ctrl-C or SIGTERM stops everything
# this command started; servers that were already running are left running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

bash scripts/setup.sh

infra_started=0
bash scripts/infra.sh status >/dev/null || infra_started=1
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
node dist/scripts/migrate.js

export GEOJOBS_HTTP_HOST="${GEOJOBS_HTTP_HOST:-127.0.0.1}"
export GEOJOBS_GATEWAY_PORT="${GEOJOBS_GATEWAY_PORT:-3000}"

pids=()
stopping=0
stop() {
  [ "$stopping" = 1 ] && return
  stopping=1
  echo "[start] stopping the services"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$infra_started" = 1 ]; then bash scripts/infra.sh down; fi
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for service in gateway geo-service export-service analytics-service; do
  # shellcheck disable=SC2046 # the service's environment and flags, one word each
  env $(node dist/scripts/node-args.js --env "$service") node $(node dist/scripts/node-args.js "$service") "dist/apps/$service/src/main.js" &
  pids+=("$!")
done

base="http://${GEOJOBS_HTTP_HOST}:${GEOJOBS_GATEWAY_PORT}"
for _ in $(seq 1 300); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  sleep 0.1
done
mgmt_display=$(printf '%s' "$GEOJOBS_RABBITMQ_MGMT_URL" | sed -E 's#//([^:]+):[^@]+@#//#')
cat <<MSG
[start] geojobs is running
  API                   $base
  API docs              $base/docs   (OpenAPI: $base/openapi.json)
  dashboard             $base/ui/
  health                $base/health, and each service's: geo http://${GEOJOBS_HTTP_HOST}:${GEOJOBS_GEO_PORT:-3001}/health, export :${GEOJOBS_EXPORT_PORT:-3002}, analytics :${GEOJOBS_ANALYTICS_PORT:-3003}
  RabbitMQ management   $mgmt_display (user geojobs, password in ${GEOJOBS_DATA_DIR:-.data/dev}/secrets.env as AMQP_PASSWORD)
  PostgreSQL            127.0.0.1:${GEOJOBS_PG_PORT:-5432}
  Firebird              ${GEOJOBS_FIREBIRD_HOST}/${GEOJOBS_FIREBIRD_PORT} (user ${GEOJOBS_FIREBIRD_USER}, password in ${GEOJOBS_DATA_DIR:-.data/dev}/secrets.env as FIREBIRD_SYSDBA_PASSWORD)
  Ctrl-C stops everything started here.
MSG
wait -n "${pids[@]}" || true
echo "[start] a service exited; stopping the rest"
