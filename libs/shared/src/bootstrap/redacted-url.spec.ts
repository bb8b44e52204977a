import { redactedUrl } from './bootstrap.js';

describe('request lines', () => {
  it('show no credential carried in the query, and the rest of the URL as it was', () => {
    expect(redactedUrl('/api/3/action/x?key=abc&id=1')).toBe('/api/3/action/x?key=[redacted]&id=1');
    expect(redactedUrl('/layers/a/tiles/1/2/3.mvt?via=map&TOKEN=t.u.v#top')).toBe('/layers/a/tiles/1/2/3.mvt?via=map&TOKEN=[redacted]#top');
    expect(redactedUrl('/jobs?monkey=1&keys=2')).toBe('/jobs?monkey=1&keys=2');
  });
});
