#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks, then runs every test against a real PostgreSQL/PostGIS
# and RabbitMQ that the test set-up starts (and stops) on loopback ports of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

bash scripts/setup.sh
echo "[test] type-checking"
npx tsc -p tsconfig.json --noEmit
echo "[test] running tests"
NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules" npx jest "$@"
