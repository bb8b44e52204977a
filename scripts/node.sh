#!/usr/bin/env bash
# `node` on Node.js 24, for the npm scripts that run a built file (a service, the migrations, jest): on a machine
# whose own node is older, npm would otherwise run them on it, and gdal-async is built for Node 24.
set -euo pipefail
source "$(dirname "$0")/node-env.sh"
exec node "$@"
