/** The pino logger of geo-service's geopreview work (`component: geopreview`), provided by GeopreviewModule. */
export const GEOPREVIEW_LOGGER = Symbol('GEOPREVIEW_LOGGER');
