import { ExportRequestError, exportRequest } from './export-request.js';

const problems = (body: unknown) => {
  try {
    exportRequest(body);
  } catch (error) {
    if (error instanceof ExportRequestError) return error.detail;
    throw error;
  }
  throw new Error('no problem found');
};

describe("exportRequest: POST /export/'s body", () => {
  it('takes gcs_uri, as SMS-Rio did, or uri', () => {
    expect(exportRequest({ gcs_uri: 'gs://b/BACKUP.GDB' })).toEqual({ uri: 'gs://b/BACKUP.GDB' });
    expect(exportRequest({ uri: 's3://b/x.fbk', tables: ['A', 'B'], charset: 'latin1', extra: 1 })).toEqual({
      uri: 's3://b/x.fbk',
      tables: ['A', 'B'],
      charset: 'latin1',
    });
    expect(exportRequest({ gcs_uri: 'gs://b/x', uri: 'gs://b/x', tables: null })).toEqual({ uri: 'gs://b/x' });
  });

  it('refuses a body without a URI as FastAPI did: 422 detail, type missing, loc body.gcs_uri', () => {
    expect(problems({ tables: ['A'] })).toEqual([{ type: 'missing', loc: ['body', 'gcs_uri'], msg: 'Field required', input: { tables: ['A'] } }]);
  });

  it('names each wrong field with its place', () => {
    expect(problems({ gcs_uri: 42, tables: ['A', 7], charset: false })).toEqual([
      { type: 'string_type', loc: ['body', 'gcs_uri'], msg: 'Input should be a valid string', input: 42 },
      { type: 'string_type', loc: ['body', 'tables', 1], msg: 'Input should be a valid string', input: 7 },
      { type: 'string_type', loc: ['body', 'charset'], msg: 'Input should be a valid string', input: false },
    ]);
    expect(problems({ uri: 'gs://b/x', tables: 'A' })).toEqual([
      { type: 'list_type', loc: ['body', 'tables'], msg: 'Input should be a valid list', input: 'A' },
    ]);
    expect(problems({ gcs_uri: 'gs://b/x', uri: 'gs://b/y' })[0]).toMatchObject({ type: 'value_error', loc: ['body', 'uri'] });
  });

  it('refuses what is not an object', () => {
    expect(problems(['gs://b/x'])).toEqual([
      { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: ['gs://b/x'] },
    ]);
  });
});
