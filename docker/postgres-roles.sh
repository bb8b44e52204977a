#!/bin/sh
# First start of the postgis container: one login role per service (the migrations grant them their rights).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE geojobs_gateway LOGIN PASSWORD '${PG_GATEWAY_PASSWORD}';
CREATE ROLE geojobs_geo LOGIN PASSWORD '${PG_GEO_PASSWORD}';
CREATE ROLE geojobs_export LOGIN PASSWORD '${PG_EXPORT_PASSWORD}';
SQL
