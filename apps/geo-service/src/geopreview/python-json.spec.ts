import { pythonJsonDumps } from './python-json.js';

describe('pythonJsonDumps', () => {
  it('writes what json.dumps writes', () => {
    expect(pythonJsonDumps({ state: 'success', layer_fields: [{ field_name: 'ogc_fid', data_type: 'integer' }], n: 3 })).toBe(
      '{"state": "success", "layer_fields": [{"field_name": "ogc_fid", "data_type": "integer"}], "n": 3}',
    );
  });

  it('escapes non-ASCII characters and keeps quotes and backslashes escaped', () => {
    // json.dumps({'m': 'Zürich "x" \\ é'}) == '{"m": "Z\\u00fcrich \\"x\\" \\\\ \\u00e9"}'
    expect(pythonJsonDumps({ m: 'Zürich "x" \\ é' })).toBe('{"m": "Z\\u00fcrich \\"x\\" \\\\ \\u00e9"}');
    expect(pythonJsonDumps('😀')).toBe('"\\ud83d\\ude00"');
  });
});
