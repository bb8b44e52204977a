import type { FeatureCollection, LineString } from 'geojson';
import type { LayerSpecification, StyleSpecification } from 'maplibre-gl';

export const BACKGROUND = '#f4f1ea';
const FEATURE = '#1f6fb2';

/** Meridians and parallels every 10°: a frame for the layer with nothing fetched from outside (the machine is offline). */
export function graticule(): FeatureCollection<LineString> {
  const lines: [number, number][][] = [];
  for (let lon = -180; lon <= 180; lon += 10) lines.push([-85, 0, 85].map((lat) => [lon, lat]));
  for (let lat = -80; lat <= 80; lat += 10) lines.push(Array.from({ length: 37 }, (_, index) => [-180 + index * 10, lat]));
  return {
    type: 'FeatureCollection',
    features: lines.map((coordinates) => ({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates } })),
  };
}

/** The drawing of the layer's features by geometry type: fills with outlines, lines, or circles. */
function featureLayers(sourceLayer: string, geometryType: string): LayerSpecification[] {
  const common = { source: 'layer', 'source-layer': sourceLayer } as const;
  const kind = geometryType.toUpperCase();
  if (kind.includes('POLYGON')) {
    return [
      { id: 'features-fill', type: 'fill', ...common, paint: { 'fill-color': FEATURE, 'fill-opacity': 0.45 } },
      { id: 'features-outline', type: 'line', ...common, paint: { 'line-color': FEATURE, 'line-width': 1.5 } },
    ];
  }
  if (kind.includes('LINE')) return [{ id: 'features-line', type: 'line', ...common, paint: { 'line-color': FEATURE, 'line-width': 2 } }];
  if (kind.includes('POINT')) {
    return [
      {
        id: 'features-circle',
        type: 'circle',
        ...common,
        paint: { 'circle-color': FEATURE, 'circle-radius': 5, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 },
      },
    ];
  }
  // a GEOMETRY column may hold anything: draw all three, each filtered to its kind
  return [
    { id: 'features-fill', type: 'fill', ...common, filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': FEATURE, 'fill-opacity': 0.45 } },
    { id: 'features-line', type: 'line', ...common, paint: { 'line-color': FEATURE, 'line-width': 1.5 } },
    { id: 'features-circle', type: 'circle', ...common, filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': FEATURE, 'circle-radius': 5 } },
  ];
}

/** A style with no glyphs, sprites or remote sources: a plain background, the graticule, and the layer's vector tiles. */
export function layerStyle(layerId: string, tiles: string, geometryType: string): StyleSpecification {
  return {
    version: 8,
    sources: {
      graticule: { type: 'geojson', data: graticule() },
      // concatenated, not through URL(), which would escape the template's braces
      layer: { type: 'vector', tiles: [`${location.origin}${tiles}`], minzoom: 0, maxzoom: 22 },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } },
      { id: 'graticule', type: 'line', source: 'graticule', paint: { 'line-color': '#d8d2c4', 'line-width': 0.6 } },
      ...featureLayers(layerId, geometryType),
    ],
  };
}
