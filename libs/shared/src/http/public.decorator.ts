import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'geojobs:public';

/** The route needs no credential (health, login, public tiles); everything else does. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const NO_RATE_LIMIT = 'geojobs:no-rate-limit';

/**
 * The route's requests are not counted against the gateway's per-client request rate (health probes, the dashboard's
 * static files, map tiles, which a map asks for by the dozen).
 */
export const NoRateLimit = () => SetMetadata(NO_RATE_LIMIT, true);
