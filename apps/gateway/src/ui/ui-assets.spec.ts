import { uiFileFor } from './ui-assets.js';

const build = new Set(['index.html', 'assets/index-B2x9kQ1a.js', 'assets/index-Cq7Z0pLm.css', 'favicon.svg']);
const exists = (file: string) => build.has(file);

describe('uiFileFor', () => {
  it('lets browsers keep hashed assets for good', () => {
    expect(uiFileFor('/assets/index-B2x9kQ1a.js', exists)).toEqual({ file: 'assets/index-B2x9kQ1a.js', cacheControl: 'public, max-age=31536000, immutable' });
  });

  it('makes browsers ask again for index.html and unhashed files', () => {
    expect(uiFileFor('', exists)).toEqual({ file: 'index.html', cacheControl: 'no-cache' });
    expect(uiFileFor('/favicon.svg', exists)).toEqual({ file: 'favicon.svg', cacheControl: 'no-cache' });
  });

  it("answers the app's own pages with index.html", () => {
    expect(uiFileFor('/jobs/6f1c', exists).file).toBe('index.html');
    expect(uiFileFor('/layers/pre_a.b', exists).file).toBe('index.html');
  });

  it('never leaves the build folder', () => {
    expect(uiFileFor('/../../package.json', exists).file).toBe('index.html');
    expect(uiFileFor('/assets/../../secrets.env', exists).file).toBe('index.html');
  });
});
