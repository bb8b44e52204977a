import { filenameOf, sendsPortalKey } from './resource-download.js';

describe('resource downloads', () => {
  const portal = { baseUrl: 'https://data.example.org/api/3/action', apiKey: 'secret' };

  it("sends the portal's key to the portal's own scheme and host only", () => {
    expect(sendsPortalKey(new URL('https://data.example.org/dataset/1/resource/2/download/roads.zip'), portal)).toBe(true);
    expect(sendsPortalKey(new URL('http://data.example.org/roads.zip'), portal)).toBe(false);
    expect(sendsPortalKey(new URL('https://data.example.org:8443/roads.zip'), portal)).toBe(false);
    expect(sendsPortalKey(new URL('https://files.example.org/roads.zip'), portal)).toBe(false);
    expect(sendsPortalKey(new URL('https://data.example.org.evil.test/roads.zip'), portal)).toBe(false);
    expect(sendsPortalKey(new URL('https://data.example.org/roads.zip'), undefined)).toBe(false);
  });

  it("names the file as the server does, else after the URL's last segment, made safe", () => {
    const url = new URL('https://files.example.org/download/Routes%20r%C3%A9gion.geojson?token=1');
    expect(filenameOf({}, url)).toBe('Routes-region.geojson');
    expect(filenameOf({ 'content-disposition': 'attachment; filename="stations 2024.csv"' }, url)).toBe('stations-2024.csv');
    expect(filenameOf({ 'content-disposition': "attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd" }, url)).toBe('etc-passwd');
    expect(filenameOf({}, new URL('https://files.example.org/'))).toBe('resource');
    expect(filenameOf({}, new URL('https://files.example.org/100%zz.csv'))).toBe('100-zz.csv');
  });
});
