#!/usr/bin/env bash
# Builds the dashboard (apps/gateway/ui) with Vite into dist/ui, unless the build there was made from the same
# sources and the same package-lock: then it does nothing, in a fraction of a second.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

out=dist/ui
stamp="$out/.sources-hash"
want=$( (find apps/gateway/ui -type f -not -path '*/node_modules/*' -print0 | sort -z | xargs -0 sha256sum; sha256sum package-lock.json) | sha256sum | cut -d' ' -f1)
if [ -f "$out/index.html" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[setup] building the dashboard (Vite)"
npx vite build --config apps/gateway/ui/vite.config.ts --logLevel warn
echo "$want" >"$stamp"
