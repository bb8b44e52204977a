/** The database roles of geojobs: one login role per service, holding only the grants that service needs. */
export const DB_ROLES = {
  gateway: 'geojobs_gateway',
  geo: 'geojobs_geo',
  export: 'geojobs_export',
  /** Read-only access to the layers schema; granted to the gateway, which serves layer descriptions and tiles. */
  layersReader: 'geojobs_layers_reader',
  /**
   * Read-only access to the boundaries, outputs and datapackages of the packages schema; granted to the gateway, which
   * serves GET /boundaries, /packages and the CCG API from them: the second read across the line, after layers.
   */
  packagesReader: 'geojobs_packages_reader',
} as const;

/** SQL that creates a role only if it is missing (operators of a managed database may create them with passwords first). */
export const ensureRole = (role: string, login: boolean): string => `
  DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN
      CREATE ROLE "${role}" ${login ? 'LOGIN' : 'NOLOGIN'};
    END IF;
  END $$`;
