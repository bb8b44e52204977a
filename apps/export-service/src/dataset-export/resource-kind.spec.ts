import { gisSourceOfFilename, gisSourceOfLabel, resourceKind, shapefileFolder, zipHoldsShapefile } from './resource-kind.js';

describe('resourceKind: convert a GIS resource, copy any other', () => {
  it('reads the portal labels publishers use, whatever their case and punctuation', () => {
    expect(gisSourceOfLabel('GeoJSON')).toBe('geojson');
    expect(gisSourceOfLabel('Zipped Shapefile')).toBe('shapefile');
    expect(gisSourceOfLabel('SHP')).toBe('shapefile');
    expect(gisSourceOfLabel('GPKG')).toBe('geopackage');
    expect(gisSourceOfLabel('kml')).toBe('kml');
    expect(gisSourceOfLabel('CSV')).toBeUndefined();
    expect(gisSourceOfLabel(undefined)).toBeUndefined();
  });

  it('reads file names, .shp.zip before .zip', () => {
    expect(gisSourceOfFilename('roads.GeoJSON')).toBe('geojson');
    expect(gisSourceOfFilename('roads.shp.zip')).toBe('shapefile');
    expect(gisSourceOfFilename('places.kmz')).toBe('kmz');
    expect(gisSourceOfFilename('data.zip')).toBeUndefined();
    expect(gisSourceOfFilename('stations.csv')).toBeUndefined();
  });

  it('converts a GeoJSON, GeoPackage or KML by its label or by its name', () => {
    expect(resourceKind('GeoJSON', 'download')).toEqual({ kind: 'gis', source: 'geojson' });
    expect(resourceKind('', 'roads.geojson')).toEqual({ kind: 'gis', source: 'geojson' });
    expect(resourceKind('GeoPackage', 'roads.gpkg')).toEqual({ kind: 'gis', source: 'geopackage' });
    expect(resourceKind('KML', 'doc.kml')).toEqual({ kind: 'gis', source: 'kml' });
  });

  it('copies a CSV, a spreadsheet, a PDF as they are', () => {
    expect(resourceKind('CSV', 'stations.csv')).toEqual({ kind: 'copy' });
    expect(resourceKind('XLSX', 'budget.xlsx', ['[Content_Types].xml', 'xl/workbook.xml'])).toEqual({ kind: 'copy' });
    expect(resourceKind(undefined, 'report.pdf')).toEqual({ kind: 'copy' });
  });

  it('converts a ZIP that holds a Shapefile whatever its label, and copies one that does not', () => {
    const shapefile = ['roads/roads.shp', 'roads/roads.shx', 'roads/roads.dbf', 'roads/roads.prj'];
    expect(resourceKind('ZIP', 'download.zip', shapefile)).toEqual({ kind: 'gis', source: 'shapefile', folder: 'roads' });
    expect(resourceKind('', 'roads.zip', ['roads.shp', 'roads.dbf'])).toEqual({ kind: 'gis', source: 'shapefile', folder: '' });
    expect(resourceKind('SHP', 'roads.zip', ['readme.txt', 'data.csv'])).toEqual({ kind: 'copy' });
    expect(resourceKind('ZIP', 'photos.zip', ['a.jpg'])).toEqual({ kind: 'copy' });
  });

  it('reads a zipped KML (by label or name) as a KMZ, and copies a bare .shp, which has nothing to convert without its .dbf', () => {
    expect(resourceKind('KMZ', 'places', ['doc.kml'])).toEqual({ kind: 'gis', source: 'kmz' });
    expect(resourceKind('KML', 'places.zip', ['doc.kml'])).toEqual({ kind: 'gis', source: 'kmz' });
    expect(resourceKind('SHP', 'roads.shp')).toEqual({ kind: 'copy' });
  });

  it('tells a Shapefile in a ZIP by a .shp with its .dbf or .shx, ignoring case, and finds its folder', () => {
    expect(zipHoldsShapefile(['A.SHP', 'a.dbf'])).toBe(true);
    expect(shapefileFolder(['readme.txt', 'data/2024/Roads.shp', 'data/2024/roads.SHX'])).toBe('data/2024');
    expect(zipHoldsShapefile(['a.shp'])).toBe(false);
    expect(zipHoldsShapefile([])).toBe(false);
  });
});
