import { besideInput, InvalidRemoteUriError, parseRemoteUri } from './remote-uri.js';

describe('parseRemoteUri', () => {
  it('reads bucket URIs, the key as written', () => {
    expect(parseRemoteUri('gs://sms-rio/path/to/BACKUP.GDB')).toEqual({ kind: 'bucket', scheme: 'gs', bucket: 'sms-rio', key: 'path/to/BACKUP.GDB' });
    expect(parseRemoteUri('S3://data.example/my file%20.fbk')).toEqual({ kind: 'bucket', scheme: 's3', bucket: 'data.example', key: 'my file%20.fbk' });
  });

  it('reads http(s) URLs', () => {
    const parsed = parseRemoteUri('https://files.example.org/db.gpkg?x=1');
    expect(parsed.kind).toBe('http');
    expect(parsed.kind === 'http' && parsed.url.toString()).toBe('https://files.example.org/db.gpkg?x=1');
  });

  it.each([
    ['gs://bucket', /names no object/],
    ['gs://bucket/', /names no object/],
    ['s3://bucket/folder/', /names no object/],
    ['gs://Bad_Bucket!/x', /invalid bucket name/],
    ['gs:///x', /invalid bucket name/],
    ['ftp://host/x', /unsupported URI scheme ftp:/],
    ['file:///etc/passwd', /unsupported URI scheme file:/],
    ['https://user:secret@host/x', /credentials/],
    ['not a uri', /not a valid URI/],
  ])('refuses %s', (uri, message) => {
    expect(() => parseRemoteUri(uri)).toThrow(InvalidRemoteUriError);
    expect(() => parseRemoteUri(uri)).toThrow(message);
  });
});

describe('besideInput', () => {
  it('puts the ZIP beside an input in a bucket, its last extension replaced, as SMS-Rio did', () => {
    expect(besideInput('gs://bucket/path/to/my/file/BACKUP.GDB')).toBe('gs://bucket/path/to/my/file/BACKUP.zip');
    expect(besideInput('gs://bucket/VERY.IMPORTANT.BACKUP.GDB')).toBe('gs://bucket/VERY.IMPORTANT.BACKUP.zip');
    expect(besideInput('s3://bucket/dir/NOEXT')).toBe('s3://bucket/dir/NOEXT.zip');
    expect(besideInput('s3://bucket/.hidden')).toBe('s3://bucket/.hidden.zip');
  });

  it("numbers the alternatives as SMS-Rio's uploader did when the name was taken", () => {
    expect(besideInput('gs://bucket/dir/BACKUP.GDB', 1)).toBe('gs://bucket/dir/BACKUP-export1.zip');
    expect(besideInput('gs://bucket/dir/data.zip', 2)).toBe('gs://bucket/dir/data-export2.zip');
  });

  it('has nothing beside an http(s) input', () => {
    expect(besideInput('https://files.example.org/BACKUP.GDB')).toBeUndefined();
  });
});
