import { readPackageShow, safeName, uniqueNames } from './package-show.js';

const dataset = {
  success: true,
  result: {
    id: '6f1c',
    name: 'roads-of-the-region',
    title: 'Roads of the region',
    resources: [
      { id: 'r1', name: 'Roads', url: 'https://files.example.org/roads.geojson', format: 'GeoJSON', size: 12 },
      { id: 'r2', name: null, url: 'https://files.example.org/stations.csv', format: 'CSV' },
    ],
  },
};

describe('readPackageShow', () => {
  it('reads the dataset and the fields of its resources an export uses', () => {
    expect(readPackageShow('roads', 200, JSON.stringify(dataset))).toEqual({
      dataset: {
        id: '6f1c',
        name: 'roads-of-the-region',
        title: 'Roads of the region',
        resources: [
          { id: 'r1', name: 'Roads', url: 'https://files.example.org/roads.geojson', format: 'GeoJSON' },
          { id: 'r2', name: '', url: 'https://files.example.org/stations.csv', format: 'CSV' },
        ],
      },
    });
  });

  it('says the portal has no such dataset on a 404, or on CKAN\'s "Not Found Error"', () => {
    const notFound = JSON.stringify({ success: false, error: { __type: 'Not Found Error', message: 'Not found' } });
    expect(readPackageShow('nope', 404, notFound)).toEqual({
      error: { type: 'export', class: 'DatasetNotFound', message: 'the portal has no dataset "nope" (package_show answered 404 Not Found)' },
    });
    expect(readPackageShow('nope', 200, notFound)).toMatchObject({ error: { class: 'DatasetNotFound' } });
  });

  it('quotes any other answer with its status, the tries and the start of its body', () => {
    const outcome = readPackageShow('roads', 503, `<html>  maintenance\n window ${'x'.repeat(400)}</html>`, 5);
    expect(outcome).toMatchObject({ error: { class: 'PortalUnavailable' } });
    const { message } = (outcome as { error: { message: string } }).error;
    expect(message).toMatch(/^the portal answered 503 Service Unavailable to package_show \(5 tries\): <html> maintenance window x+…$/);
    expect(message.length).toBeLessThan(400);
  });

  it('tells a refusal and an answer that is no dataset', () => {
    const refused = JSON.stringify({ success: false, error: { __type: 'Authorization Error', message: 'Access denied' } });
    expect(readPackageShow('private', 403, refused)).toMatchObject({
      error: { class: 'DatasetNotAuthorized', message: expect.stringContaining('Access denied') },
    });
    expect(readPackageShow('roads', 200, 'not json')).toMatchObject({ error: { class: 'PortalAnswerInvalid' } });
  });
});

describe('file names', () => {
  it('makes a name safe for a storage key and a ZIP entry', () => {
    expect(safeName('Routes de la région', 'x')).toBe('Routes-de-la-region');
    expect(safeName('../../etc/passwd', 'x')).toBe('etc-passwd');
    expect(safeName('///', 'fallback')).toBe('fallback');
  });

  it('keeps names unique, ignoring case', () => {
    expect(uniqueNames(['Roads', 'roads', 'Roads', ''], 'resource')).toEqual(['Roads', 'roads-2', 'Roads-3', 'resource']);
  });
});
