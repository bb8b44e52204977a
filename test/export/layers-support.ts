/** What the layers export tests share: layer tables made as geo-service makes them, and the ZIP opened. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import yauzl from 'yauzl';

/** Unpacks a ZIP into `folder`; returns its entry names in order. */
export async function unzip(path: string, folder: string): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true }, (error, file) => (error ? reject(error) : resolve(file))),
  );
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      names.push(entry.fileName);
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => {
          const target = join(folder, entry.fileName);
          void mkdir(dirname(target), { recursive: true })
            .then(() => writeFile(target, Buffer.concat(chunks)))
            .then(() => zip.readEntry(), reject);
        });
      });
    });
    zip.readEntry();
  });
  return names;
}

/** RFC 4180 CSV (quotes, doubled quotes, newlines in quotes) into rows of strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || (char === '\r' && text[index + 1] === '\n')) {
      if (char === '\r') index++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** A layer table as geo-service leaves one: in the layers schema, owned by geo's role, stamped with its import comment. */
export async function makeLayer(geo: pg.Client, table: string, columns: string, fill: string, stamp = 'first', geometryType = 'Geometry'): Promise<void> {
  await geo.query(`DROP TABLE IF EXISTS layers."${table}"`);
  await geo.query(`CREATE TABLE layers."${table}" (ogc_fid serial PRIMARY KEY, wkb_geometry geometry(${geometryType}, 4326), ${columns})`);
  await geo.query(fill.replace(/\$table/g, `layers."${table}"`));
  await geo.query(`COMMENT ON TABLE layers."${table}" IS 'geojobs import ${stamp}'`);
}
