#!/usr/bin/env bash
# Installs what geojobs needs and builds it: Debian packages, npm packages (gdal-async built against
# Debian's GDAL), the TypeScript build. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

bash scripts/install.sh

stamp=node_modules/.geojobs-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing npm packages (gdal-async is built against the system GDAL; this takes a few minutes)"
  # gdal-async's prebuilt download is unreachable, and its fallback compiles all of GDAL: build only the binding.
  npm_config_build_from_source=true npm_config_shared_gdal=true npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

if ! node -e "import('gdal-async').then(() => process.exit(0), () => process.exit(1))" 2>/dev/null; then
  echo "[setup] building gdal-async against the system GDAL"
  npm_config_build_from_source=true npm_config_shared_gdal=true npm rebuild gdal-async
fi

echo "[setup] building"
npx tsc -p tsconfig.build.json
bash scripts/build-ui.sh
