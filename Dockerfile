# One image for every geojobs service; docker-compose.yml picks the entry point.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends libgdal-dev python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# gdal-async: build only the binding against Debian's GDAL
RUN npm_config_build_from_source=true npm_config_shared_gdal=true npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY scripts scripts
COPY bench bench
# the services, then the dashboard's bundles (dist/ui, served by the gateway at /ui)
RUN npx tsc -p tsconfig.build.json && npx vite build --config apps/gateway/ui/vite.config.ts --logLevel warn && npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgdal32 curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# the storage folder, owned by the user the services run as (a volume mounted here inherits that owner)
RUN mkdir -p /var/lib/geojobs/storage && chown node:node /var/lib/geojobs/storage
ENV GEOJOBS_HTTP_HOST=0.0.0.0 NODE_ENV=production GEOJOBS_STORAGE_DIR=/var/lib/geojobs/storage
USER node
