/**
 * The encoding of a shapefile's attributes as GDAL decides it (and recodes from, to UTF-8): the `.cpg` sidecar when
 * there is one, else the DBF's language driver id (byte 29), else ISO-8859-1, GDAL's default.
 * Only the common language driver ids are named; GDAL knows more, and reads them right whatever this says.
 */
const LDID_CODEPAGES: Record<number, string> = {
  0x01: 'CP437',
  0x02: 'CP850',
  0x03: 'CP1252',
  0x57: 'ISO-8859-1',
  0x64: 'CP852',
  0x65: 'CP866',
  0x7d: 'CP1255',
  0x7e: 'CP1256',
  0xc8: 'CP1250',
  0xc9: 'CP1251',
  0xca: 'CP1254',
  0xcb: 'CP1253',
};

export function shapefileEncoding(cpg: string | undefined, ldid: number | undefined): string {
  const declared = cpg?.trim();
  if (declared) return /^(utf-?8|65001)$/i.test(declared) ? 'UTF-8' : /^\d+$/.test(declared) ? `CP${declared}` : declared.toUpperCase();
  if (ldid !== undefined && LDID_CODEPAGES[ldid]) return LDID_CODEPAGES[ldid];
  return 'ISO-8859-1';
}
