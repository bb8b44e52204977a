/**
 * The remote addresses `export.convert` reads from and writes to: `http(s)://…`, `s3://bucket/key` and
 * `gs://bucket/key`. Pure parsing and naming; remote-files.service.ts does the I/O.
 */

export type BucketScheme = 's3' | 'gs';

export type RemoteUri = { kind: 'http'; url: URL } | { kind: 'bucket'; scheme: BucketScheme; bucket: string; key: string };

/** A URI that names no file this module can reach: the message says why, for the job's error. */
export class InvalidRemoteUriError extends Error {
  override readonly name = 'InvalidRemoteUriError';
}

/**
 * Bucket names as S3 and GCS both accept them (lower-case letters, digits, `.`, `-`, `_`; 3 to 222 characters): a
 * name outside this set would otherwise reach the endpoint as a path of its own.
 */
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/**
 * `s3://bucket/key` and `gs://bucket/key` take the key as written, not percent-decoded, as `gsutil` and `aws s3` do
 * (`gs://b/my file.gdb` is the object `my file.gdb`). The key names one object: not empty, not a folder.
 */
export function parseRemoteUri(uri: string): RemoteUri {
  const bucketMatch = /^(s3|gs):\/\/([^/]*)\/?(.*)$/i.exec(uri);
  if (bucketMatch) {
    const scheme = bucketMatch[1].toLowerCase() as BucketScheme;
    const [, , bucket, key] = bucketMatch;
    if (!BUCKET.test(bucket)) throw new InvalidRemoteUriError(`${scheme}:// URI with an invalid bucket name "${bucket}": ${uri}`);
    if (key === '' || key.endsWith('/')) throw new InvalidRemoteUriError(`${scheme}:// URI names no object (a bucket or a folder): ${uri}`);
    return { kind: 'bucket', scheme, bucket, key };
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidRemoteUriError(`not a valid URI: ${uri.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidRemoteUriError(`unsupported URI scheme ${url.protocol} (http, https, s3 and gs only)`);
  }
  if (url.username || url.password) throw new InvalidRemoteUriError('URIs with credentials are not accepted');
  return { kind: 'http', url };
}

export function formatRemoteUri(uri: RemoteUri): string {
  return uri.kind === 'http' ? uri.url.toString() : `${uri.scheme}://${uri.bucket}/${uri.key}`;
}

/**
 * Where the ZIP of an input in a bucket goes by default: beside it, its last extension replaced by `.zip`
 * (`gs://b/dir/BACKUP.GDB` → `gs://b/dir/BACKUP.zip`, `VERY.IMPORTANT.BACKUP.GDB` → `VERY.IMPORTANT.BACKUP.zip`),
 * as SMS-Rio's exporter named it. `attempt` > 0 gives the names SMS-Rio tried when that one was taken:
 * `BACKUP-export1.zip`, `BACKUP-export2.zip`, … Undefined for an http(s) input: there is nowhere beside it to write.
 */
export function besideInput(inputUri: string, attempt = 0): string | undefined {
  const input = parseRemoteUri(inputUri);
  if (input.kind !== 'bucket') return undefined;
  const slash = input.key.lastIndexOf('/');
  const folder = input.key.slice(0, slash + 1);
  const name = input.key.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const suffix = attempt > 0 ? `-export${attempt}` : '';
  return formatRemoteUri({ ...input, key: `${folder}${stem}${suffix}.zip` });
}
