#!/usr/bin/env bash
# `npm run test:chaos`: builds, then runs the chaos suite (dist/scripts/chaos/main.js) against a PostgreSQL, a
# three-node RabbitMQ cluster and two copies of each service of its own, on ports GEOJOBS_CHAOS_PORT_BASE and up
# (default 27900: gateways 27900-27901, PostgreSQL 27932, RabbitMQ 27972/27982/27992) and data under .data/chaos.
# Sizes and durations: see scripts/chaos/main.ts. Prints one summary line; exits 1 on any loss or duplicate.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

bash scripts/setup.sh >/dev/null
npx tsc -p tsconfig.build.json
exec node dist/scripts/chaos/main.js
