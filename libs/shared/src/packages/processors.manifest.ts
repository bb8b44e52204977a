/**
 * The processors of data packages, as the gateway lists them and export-service runs them: one source of truth for
 * their metadata (the code of each lives in export-service, `packages/processors/<name>/`). A processor is named
 * `<name>.<version>` in requests and paths, as irv-autopkg named them (`natural_earth_raster.version_1`); bumping
 * a version here makes the next request for a boundary rebuild that processor's output.
 */

export interface ProcessorLicense {
  name: string;
  path: string;
  title: string;
}

export interface ProcessorManifest {
  name: string;
  version: string;
  /** Runs first for every package (the boundary itself); not requested, not listed. */
  internal: boolean;
  description: string;
  /** The dataset the processor clips. */
  dataset: string;
  author: string;
  title: string;
  titleLong: string;
  summary: string;
  citation: string;
  license: ProcessorLicense;
  originUrl: string;
  /** Output formats, as irv-autopkg names them (`GeoPackage`, `GeoTIFF`, …). */
  formats: string[];
}

const ODBL: ProcessorLicense = {
  name: 'ODbL-1.0',
  path: 'https://opendefinition.org/licenses/odc-odbl',
  title: 'Open Data Commons Open Database License 1.0',
};
const CC_BY: ProcessorLicense = { name: 'CC-BY-4.0', path: 'https://creativecommons.org/licenses/by/4.0/', title: 'Creative Commons Attribution 4.0' };

export const PROCESSORS: readonly ProcessorManifest[] = [
  {
    name: 'boundary',
    version: 'version_1',
    internal: true,
    description: 'The boundary of the package itself',
    dataset: 'boundaries',
    author: 'geojobs',
    title: 'Boundary',
    titleLong: 'The administrative boundary the package is clipped to',
    summary: 'The boundary polygon as loaded by package.boundaries.load',
    citation: '',
    license: ODBL,
    originUrl: 'https://github.com/nismod/irv-autopkg',
    formats: ['GeoJSON', 'GeoPackage'],
  },
  {
    name: 'vector_clip',
    version: 'version_1',
    internal: false,
    description: 'A previewed vector layer clipped to the boundary',
    dataset: 'the configured previewed layer (GEOJOBS_PACKAGES_VECTOR_LAYER)',
    author: 'geojobs',
    title: 'Vector layer',
    titleLong: 'A previewed vector layer, clipped to the boundary with ST_Intersection',
    summary: 'Every feature of the layer that intersects the boundary, cut to it',
    citation: '',
    license: ODBL,
    originUrl: 'https://github.com/nismod/irv-autopkg',
    formats: ['GeoPackage', 'CSV'],
  },
  {
    name: 'raster_clip',
    version: 'version_1',
    internal: false,
    description: 'A GeoTIFF clipped to the boundary',
    dataset: 'the configured GeoTIFF in storage (GEOJOBS_PACKAGES_RASTER_SOURCE)',
    author: 'geojobs',
    title: 'Raster',
    titleLong: 'A GeoTIFF warped with the boundary as cutline, as a Cloud-Optimized GeoTIFF',
    summary: 'The raster cropped to the boundary envelope, nodata outside the boundary',
    citation: '',
    license: CC_BY,
    originUrl: 'https://github.com/nismod/irv-autopkg',
    formats: ['GeoTIFF'],
  },
];

/** `<name>.<version>`, the name requests and irv-autopkg's API use. */
export const processorKey = (processor: Pick<ProcessorManifest, 'name' | 'version'>): string => `${processor.name}.${processor.version}`;

export const BOUNDARY_PROCESSOR = PROCESSORS.find((processor) => processor.internal)!;

/** The processors a request may name (every one but the internal boundary). */
export const PUBLIC_PROCESSORS = PROCESSORS.filter((processor) => !processor.internal);

/** A processor a request may name, by `<name>.<version>`. */
export const findProcessor = (key: string): ProcessorManifest | undefined => PUBLIC_PROCESSORS.find((processor) => processorKey(processor) === key);

/** The processors a request named: the unknown ones and the duplicates, each named once, for a 400. */
export function processorProblems(requested: readonly string[]): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const key of requested) {
    if (!findProcessor(key)) problems.push(`unknown processor ${key} (known: ${PUBLIC_PROCESSORS.map(processorKey).join(', ')})`);
    else if (seen.has(key)) problems.push(`duplicate processor ${key}`);
    seen.add(key);
  }
  return [...new Set(problems)];
}
