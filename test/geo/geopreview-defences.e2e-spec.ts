import { randomUUID } from 'node:crypto';
import { waitFor } from '../../libs/testing/src/index.js';
import { geojson, hdxFixture, kml, zip } from './geo-files.js';
import { GeopreviewHarness } from './geopreview-harness.js';

const MAX_DOWNLOAD = 2 * 1024 * 1024;

describe('geopreview defences: each a clear failure, nothing half-imported, the scratch folder removed', () => {
  const geo = new GeopreviewHarness();

  beforeAll(async () => {
    await geo.start((files) => ({
      // loopback is allowed by address for 127.0.0.1 only, and by name for "localhost"
      GEOJOBS_ALLOWED_HOSTS: '127.0.0.1,localhost',
      CKAN_API_BASE_URL: `http://127.0.0.1:${files.port}/api/3/action`,
      CKAN_API_KEY: 'portal-secret-key',
      GEOJOBS_GEO_MAX_DOWNLOAD_BYTES: String(MAX_DOWNLOAD),
      GEOJOBS_GEO_READ_TIMEOUT_MS: '1000',
      GEOJOBS_GEO_DOWNLOAD_TIMEOUT_MS: '3000',
      GEOJOBS_GEO_MAX_UNPACKED_BYTES: String(20 * 1024 * 1024),
      GEOJOBS_GEO_MAX_UNPACK_RATIO: '100',
    }));
    geo.files.routes.set('/ok.geojson', geojson());
  });

  afterAll(() => geo.stop());

  afterEach(async () => {
    expect(await geo.scratchLeft()).toEqual([]);
    expect(await geo.stagingTables()).toEqual([]);
    expect((await geo.layerTables()).filter((table) => table.startsWith('pre_bad'))).toEqual([]);
  });

  const fails = (path: string, host?: string) => geo.expectFailure(geo.files.url(path, host), { resourceId: 'bad' });

  it('does not POST a callbackUrl at a private address that is not allow-listed, and the import still succeeds', async () => {
    geo.files.routes.set('/callback.geojson', geojson());
    const outcome = await geo.run('geo.preview', {
      jobId: randomUUID(),
      datasetId: 'dataset-1',
      resourceId: randomUUID(),
      url: geo.files.url('/callback.geojson'),
      notify: { callbackUrl: 'http://10.255.255.1/hooks/done' },
    });
    expect(outcome.state).toBe('succeeded');
    const refusal = await waitFor(
      () =>
        geo.service
          .output()
          .split('\n')
          .find((line) => line.includes('"callback refused"')),
      'the refusal in the log',
      { timeoutMs: 5_000 },
    );
    expect(refusal).toMatch(/10\.255\.255\.1 .*not a public address and not in GEOJOBS_ALLOWED_HOSTS/);
  });

  it('refuses loopback addresses not in GEOJOBS_ALLOWED_HOSTS', async () => {
    // 127.0.0.2 is loopback too, but only 127.0.0.1 is allow-listed
    const error = await geo.expectFailure(`http://127.0.0.2:${geo.files.port}/ok.geojson`, { resourceId: 'bad' });
    expect(error).toEqual({
      type: 'download',
      class: 'AddressRefusedError',
      message: 'refusing to download: 127.0.0.2 is a loopback address: not a public address and not in GEOJOBS_ALLOWED_HOSTS',
    });
    expect(geo.files.requests.some((request) => request.path === '/ok.geojson')).toBe(false);
  });

  it('refuses private addresses, including ones a redirect leads to', async () => {
    expect(await geo.expectFailure('http://10.11.12.13/x.geojson', { resourceId: 'bad' })).toMatchObject({ class: 'AddressRefusedError' });
    geo.files.routes.set('/redirect-private', (response) => response.writeHead(302, { location: 'http://192.168.77.1/x.geojson' }).end());
    expect(await fails('/redirect-private')).toMatchObject({ class: 'AddressRefusedError' });
  });

  it('sends the portal key to the portal host only, exactly', async () => {
    geo.files.requests.length = 0;
    await geo.expectSuccess(geo.files.url('/ok.geojson'));
    await geo.expectSuccess(geo.files.url('/ok.geojson', 'localhost'));
    geo.files.routes.set('/redirect-away', (response) => response.writeHead(302, { location: geo.files.url('/ok.geojson', 'localhost') }).end());
    await geo.expectSuccess(geo.files.url('/redirect-away'));
    expect(geo.files.requests.map((request) => request.headers.authorization)).toEqual(['portal-secret-key', undefined, 'portal-secret-key', undefined]);
  });

  it('refuses a file whose Content-Length is over the size cap, and one that sends more bytes than the cap', async () => {
    const big = Buffer.alloc(MAX_DOWNLOAD + 1, 32);
    geo.files.routes.set('/big.geojson', big);
    expect(await fails('/big.geojson')).toEqual({
      type: 'download',
      class: 'FileTooLargeError',
      message: `the file is ${MAX_DOWNLOAD + 1} bytes, over the limit of ${MAX_DOWNLOAD} bytes`,
    });
    geo.files.routes.set('/chunked.geojson', (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 5; i++) response.write(Buffer.alloc(MAX_DOWNLOAD / 2, 32));
      response.end();
    });
    expect(await fails('/chunked.geojson')).toMatchObject({ class: 'FileTooLargeError', message: `the file is over the limit of ${MAX_DOWNLOAD} bytes` });
  });

  it('gives up on a server that stops sending (read timeout) and on one too slow overall (total timeout)', async () => {
    geo.files.routes.set('/stalls.geojson', (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"type":');
    });
    expect(await fails('/stalls.geojson')).toMatchObject({ type: 'download', class: 'DownloadTimeoutError', message: expect.stringContaining('no data') });
    geo.files.routes.set('/trickles.geojson', (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => (response.writableEnded ? clearInterval(timer) : response.write(' ')), 300);
      response.on('close', () => clearInterval(timer));
    });
    expect(await fails('/trickles.geojson')).toMatchObject({ class: 'DownloadTimeoutError', message: 'the download took longer than 3000 ms' });
  });

  it('fails a download that cannot connect, and an HTTP error status', async () => {
    expect(await geo.expectFailure('http://127.0.0.1:1/x.geojson', { resourceId: 'bad' })).toMatchObject({
      type: 'download',
      class: 'DownloadError',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    expect(await fails('/missing.geojson')).toEqual({ type: 'download', class: 'DownloadError', message: 'the server answered 404 Not Found' });
  });

  it.each([
    ['escaping the folder', '../evil.geojson', undefined, /"\.\.\/evil\.geojson" escapes the folder/],
    ['with an absolute path', '/tmp/evil.geojson', undefined, /is an absolute path/],
    ['that is a symbolic link', 'link.geojson', 0o120777, /"link\.geojson" is a symbolic link/],
  ])('refuses a zip entry %s', async (_what, name, mode, message) => {
    geo.files.routes.set(
      '/hostile.zip',
      zip([
        { name: 'ok.geojson', data: geojson() },
        { name, data: mode ? '/etc/passwd' : geojson(), mode },
      ]),
    );
    expect(await fails('/hostile.zip')).toEqual({ type: 'unpack', class: 'UnsafeArchiveEntryError', message: expect.stringMatching(message) });
  });

  it('refuses zip bombs, by expanded size and by ratio', async () => {
    const zeros = Buffer.alloc(25 * 1024 * 1024);
    geo.files.routes.set('/bomb-size.zip', zip([{ name: 'a.geojson', data: zeros, deflate: true }]));
    expect(await fails('/bomb-size.zip')).toMatchObject({
      type: 'unpack',
      class: 'ArchiveTooLargeError',
      message: expect.stringMatching(/expands to 26214400 bytes, over the limit/),
    });
    geo.files.routes.set('/bomb-ratio.zip', zip([{ name: 'a.geojson', data: Buffer.alloc(5 * 1024 * 1024), deflate: true }]));
    expect(await fails('/bomb-ratio.zip')).toMatchObject({
      class: 'ArchiveTooLargeError',
      message: expect.stringMatching(/expands \d+ times its size, over the limit of 100/),
    });
  });

  it('fails corrupt or truncated files clearly', async () => {
    const shp = await hdxFixture('test.shp.zip');
    geo.files.routes.set('/truncated.zip', shp.subarray(0, shp.length / 2));
    expect(await fails('/truncated.zip')).toMatchObject({ type: 'unpack', class: 'UnpackError', message: expect.stringContaining('corrupt or truncated') });
    const text = geojson();
    geo.files.routes.set('/truncated.geojson', text.slice(0, text.length / 2));
    expect(await fails('/truncated.geojson')).toMatchObject({ type: 'format', class: 'UnreadableFileError' });
    geo.files.routes.set('/corrupt.gpkg', Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 7)]));
    expect(await fails('/corrupt.gpkg')).toMatchObject({ type: 'format', class: 'UnreadableFileError' });
  });

  it('refuses a file that is not what its extension says', async () => {
    geo.files.routes.set('/page.geojson', '<!doctype html><html><body>Sign in</body></html>');
    expect(await fails('/page.geojson')).toEqual({
      type: 'format',
      class: 'FormatMismatchError',
      message: 'page.geojson is not a geojson file: its content looks like XML or HTML',
    });
    geo.files.routes.set('/notzip.zip', geojson());
    expect(await fails('/notzip.zip')).toMatchObject({ class: 'FormatMismatchError', message: expect.stringContaining('is not a zip archive') });
  });

  it('refuses KML declaring external entities', async () => {
    geo.files.routes.set('/xxe.kml', kml(undefined, '<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace('<name>cities', '<name>&xxe;'));
    expect(await fails('/xxe.kml')).toMatchObject({ type: 'format', class: 'XmlEntityError' });
    geo.files.routes.set('/xxe.kmz', zip([{ name: 'doc.kml', data: kml(undefined, '<!DOCTYPE kml [<!ENTITY x SYSTEM "http://10.0.0.1/">]>') }]));
    expect(await fails('/xxe.kmz')).toMatchObject({ type: 'format', class: 'XmlEntityError' });
  });
});
