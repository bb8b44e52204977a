/** The pino logger of geo-service's geopreview work (`component: geopreview`), provided by LayerPreviewModule. */
export const GEOPREVIEW_LOGGER = Symbol('GEOPREVIEW_LOGGER');
