/**
 * What a dataset export does with one portal resource: converts a GIS file to the chosen formats, or copies any other
 * file as it is. Decided from the portal's format label first (what the publisher said), then from the file's name
 * (the server's Content-Disposition or the URL), then, for a ZIP, from its entries (a zipped Shapefile). Pure: the
 * caller downloads and lists the archive.
 */

/** GIS sources a dataset export converts: what GDAL opens for it. */
export type GisSource = 'geojson' | 'shapefile' | 'geopackage' | 'kml' | 'kmz';

/** `folder`: where in a ZIP its Shapefile is (`''` at the top), since GDAL reads the shapefiles of one folder. */
export type ResourceKind = { kind: 'gis'; source: GisSource; folder?: string } | { kind: 'copy' };

/** Portal format labels (lower-cased, spaces and punctuation dropped) that name a GIS source. */
const GIS_LABELS: Record<string, GisSource> = {
  geojson: 'geojson',
  shp: 'shapefile',
  shapefile: 'shapefile',
  zippedshapefile: 'shapefile',
  esrishapefile: 'shapefile',
  shpzip: 'shapefile',
  gpkg: 'geopackage',
  geopackage: 'geopackage',
  kml: 'kml',
  kmz: 'kmz',
};

/** File name endings that name a GIS source, longest first so that `.shp.zip` wins over `.zip`. */
const GIS_EXTENSIONS: [string, GisSource][] = [
  ['.shp.zip', 'shapefile'],
  ['.geojson', 'geojson'],
  ['.gpkg', 'geopackage'],
  ['.kml', 'kml'],
  ['.kmz', 'kmz'],
];

const normalisedLabel = (format: string | undefined): string => (format ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');

/** The GIS source a portal format label names, if any (`GeoJSON`, `SHP`, `Zipped Shapefile`, `GPKG`, `KML`…). */
export const gisSourceOfLabel = (format: string | undefined): GisSource | undefined => GIS_LABELS[normalisedLabel(format)];

/** The GIS source a file name's ending names, if any. */
export function gisSourceOfFilename(filename: string): GisSource | undefined {
  const name = filename.toLowerCase();
  return GIS_EXTENSIONS.find(([extension]) => name.endsWith(extension))?.[1];
}

/** Whether a ZIP's entries hold a Shapefile: a `.shp` with its `.dbf` or `.shx` beside it. */
export const zipHoldsShapefile = (entries: readonly string[]): boolean => shapefileFolder(entries) !== undefined;

/** The folder of a ZIP's first Shapefile (`''` at the top), in entry order; undefined when it holds none. */
export function shapefileFolder(entries: readonly string[]): string | undefined {
  const names = new Set(entries.map((entry) => entry.toLowerCase()));
  const shp = entries.find((entry) => {
    const name = entry.toLowerCase();
    return name.endsWith('.shp') && (names.has(`${name.slice(0, -4)}.dbf`) || names.has(`${name.slice(0, -4)}.shx`));
  });
  return shp === undefined ? undefined : shp.slice(0, shp.lastIndexOf('/') + 1).replace(/\/$/, '');
}

const COPY: ResourceKind = { kind: 'copy' };

/**
 * GIS or copy, for a resource with portal format label `format` whose file is named `filename`; `zipEntries` lists
 * the entries of a file that is a ZIP (undefined for any other file). A ZIP is converted when it holds a Shapefile,
 * whatever its label says (portals label them `ZIP`, `SHP` or nothing), and copied otherwise — except a KMZ (a zipped
 * KML, by its label or name), which GDAL reads as such. Any other file is converted when its label or its name says GIS. A bare `.shp` is
 * copied: without its `.dbf` and `.shx` there is nothing to convert.
 */
export function resourceKind(format: string | undefined, filename: string, zipEntries?: readonly string[]): ResourceKind {
  const source = gisSourceOfLabel(format) ?? gisSourceOfFilename(filename);
  if (zipEntries !== undefined) {
    if (source === 'kmz' || source === 'kml') return { kind: 'gis', source: 'kmz' }; // a zipped KML is a KMZ
    const folder = shapefileFolder(zipEntries);
    return folder === undefined ? COPY : { kind: 'gis', source: 'shapefile', folder };
  }
  return source && source !== 'shapefile' ? { kind: 'gis', source } : COPY;
}
