#!/usr/bin/env bash
# `npm test`: installs what is missing, lints (ESLint with type-checked rules, Prettier's formatting check),
# type-checks, then runs every test against a real PostgreSQL/PostGIS and RabbitMQ that the test set-up starts
# (and stops) on loopback ports of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

bash scripts/setup.sh
echo "[test] linting"
npx eslint --max-warnings 0 .
npx prettier --check --log-level warn .
echo "[test] type-checking"
npx tsc -p tsconfig.json --noEmit
npx tsc -p apps/gateway/ui/tsconfig.json
echo "[test] running tests"
NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules" npx jest "$@"
