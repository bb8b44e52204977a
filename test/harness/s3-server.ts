/**
 * A small S3-compatible HTTP server for tests: the subset of the S3 API that the AWS SDK sends for
 * S3Storage (path-style addressing), objects held in memory, every request recorded. Signatures are not
 * verified, but a request must carry a SigV4 Authorization header, as real servers demand. Limits that real
 * S3 enforces and that clients must respect are enforced here too: at most 1,000 keys per ListObjectsV2 page
 * and per DeleteObjects, parts of at least 5 MiB except the last.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';

export type S3Operation =
  | 'HeadBucket'
  | 'ListObjectsV2'
  | 'DeleteObjects'
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload';

export interface RecordedS3Request {
  operation: S3Operation | 'Unsupported';
  method: string;
  bucket: string;
  key: string;
  query: Record<string, string>;
  /** Bytes of the request body. */
  bytes: number;
  status: number;
}

interface S3Object {
  body: Buffer;
  contentType: string;
  etag: string;
  modifiedAt: Date;
}

interface MultipartUpload {
  bucket: string;
  key: string;
  contentType: string;
  parts: Map<number, { body: Buffer; etag: string }>;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_KEYS = 1_000;
const MIN_PART_SIZE = 5 * 1024 * 1024;

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const unescapeXml = (text: string): string =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');
const xmlValues = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => unescapeXml(match[1]));
const md5 = (data: Buffer): Buffer => createHash('md5').update(data).digest();
const xml = (root: string, inner: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;

export class S3TestServer {
  readonly requests: RecordedS3Request[] = [];
  /** Most keys in one ListObjectsV2 page, whatever the client asks (S3's cap is 1,000): lower it to force paging. */
  listPageSize = MAX_KEYS;
  /** When set, every request is answered with this status and an InternalError (to make the backend look down). */
  failWith: number | undefined;
  private readonly buckets = new Map<string, Map<string, S3Object>>();
  private readonly uploads = new Map<string, MultipartUpload>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<S3TestServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const s3 = new S3TestServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (request, response) => void s3.handle(request, response));
    return s3;
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  deleteBucket(name: string): void {
    this.buckets.delete(name);
  }

  /** Keys in a bucket, sorted. */
  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort();
  }

  object(bucket: string, key: string): Buffer | undefined {
    return this.buckets.get(bucket)?.get(key)?.body;
  }

  /** Multipart uploads in a bucket created and neither completed nor aborted. */
  openUploads(bucket: string): number {
    return [...this.uploads.values()].filter((upload) => upload.bucket === bucket).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://s3.test');
    const [bucketPart = '', ...keyParts] = url.pathname.slice(1).split('/');
    const bucket = decodeURIComponent(bucketPart);
    const key = keyParts.map((part) => decodeURIComponent(part)).join('/');
    const query = Object.fromEntries(url.searchParams);
    const record: RecordedS3Request = { operation: 'Unsupported', method: request.method ?? '', bucket, key, query, bytes: 0, status: 0 };
    this.requests.push(record);
    try {
      const body = await buffer(request);
      record.bytes = body.length;
      record.operation = operationOf(request.method ?? '', key, url.searchParams);
      if (this.failWith !== undefined) throw new S3Error(this.failWith, 'InternalError', 'the test made this server fail');
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(request.headers.authorization ?? '')) {
        throw new S3Error(403, 'AccessDenied', 'requests must be signed with SigV4');
      }
      // aws-chunked bodies (the SDK's default for streams with checksums) are refused, as many S3-compatible
      // servers do: the client must send plain bodies
      if (/aws-chunked/.test(request.headers['content-encoding'] ?? '') || /^STREAMING-/.test(String(request.headers['x-amz-content-sha256'] ?? ''))) {
        throw new S3Error(501, 'NotImplemented', 'aws-chunked uploads are not supported');
      }
      const objects = this.buckets.get(bucket);
      if (!objects) throw new S3Error(404, 'NoSuchBucket', `no bucket ${bucket}`);
      const reply = this.answer(record.operation, { request, bucket, key, params: url.searchParams, body, objects });
      record.status = reply.status;
      response.writeHead(reply.status, reply.headers ?? {});
      response.end(request.method === 'HEAD' ? undefined : reply.body);
    } catch (error) {
      const failure = error instanceof S3Error ? error : new S3Error(500, 'InternalError', (error as Error).message);
      record.status = failure.status;
      if (response.headersSent) return void response.destroy();
      response.writeHead(failure.status, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() });
      const detail = `<Code>${failure.code}</Code><Message>${escapeXml(failure.message)}</Message><Resource>${escapeXml(url.pathname)}</Resource>`;
      response.end(request.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${detail}</Error>`);
    }
  }

  private answer(
    operation: RecordedS3Request['operation'],
    {
      request,
      bucket,
      key,
      params,
      body,
      objects,
    }: { request: IncomingMessage; bucket: string; key: string; params: URLSearchParams; body: Buffer; objects: Map<string, S3Object> },
  ): { status: number; headers?: Record<string, string>; body?: string | Buffer } {
    const contentType = request.headers['content-type'] ?? 'binary/octet-stream';
    switch (operation) {
      case 'HeadBucket':
        return { status: 200 };
      case 'ListObjectsV2':
        return this.list(bucket, objects, params);
      case 'DeleteObjects': {
        const keys = xmlValues(body.toString('utf8'), 'Key');
        if (keys.length === 0 || keys.length > MAX_KEYS)
          throw new S3Error(400, 'MalformedXML', `DeleteObjects takes 1 to ${MAX_KEYS} keys, got ${keys.length}`);
        for (const each of keys) objects.delete(each);
        const quiet = /<Quiet>true<\/Quiet>/.test(body.toString('utf8'));
        const deleted = quiet ? '' : keys.map((each) => `<Deleted><Key>${escapeXml(each)}</Key></Deleted>`).join('');
        return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml('DeleteResult', deleted) };
      }
      case 'PutObject': {
        const etag = `"${md5(body).toString('hex')}"`;
        objects.set(key, { body, contentType, etag, modifiedAt: new Date() });
        return { status: 200, headers: { etag } };
      }
      case 'GetObject':
      case 'HeadObject': {
        const object = objects.get(key);
        if (!object) throw new S3Error(404, 'NoSuchKey', `no object ${key}`);
        const headers = {
          'content-length': String(object.body.length),
          'content-type': object.contentType,
          etag: object.etag,
          'last-modified': object.modifiedAt.toUTCString(),
        };
        return { status: 200, headers, body: object.body };
      }
      case 'DeleteObject':
        objects.delete(key);
        return { status: 204 };
      case 'CreateMultipartUpload': {
        const uploadId = randomUUID();
        this.uploads.set(uploadId, { bucket, key, contentType, parts: new Map() });
        const inner = `<Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId>`;
        return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml('InitiateMultipartUploadResult', inner) };
      }
      case 'UploadPart': {
        const upload = this.upload(params.get('uploadId'), bucket, key);
        const etag = `"${md5(body).toString('hex')}"`;
        upload.parts.set(Number(params.get('partNumber')), { body, etag });
        return { status: 200, headers: { etag } };
      }
      case 'CompleteMultipartUpload': {
        const uploadId = params.get('uploadId');
        const upload = this.upload(uploadId, bucket, key);
        const text = body.toString('utf8');
        const numbers = xmlValues(text, 'PartNumber').map(Number);
        const etags = xmlValues(text, 'ETag');
        if (numbers.length === 0 || numbers.length !== etags.length) throw new S3Error(400, 'MalformedXML', 'no parts listed');
        const parts = numbers.map((number, index) => {
          const part = upload.parts.get(number);
          if (!part || part.etag !== etags[index]) throw new S3Error(400, 'InvalidPart', `part ${number} was not uploaded (or its ETag differs)`);
          if (index > 0 && number <= numbers[index - 1]) throw new S3Error(400, 'InvalidPartOrder', 'parts must be listed in ascending order');
          if (index < numbers.length - 1 && part.body.length < MIN_PART_SIZE) throw new S3Error(400, 'EntityTooSmall', `part ${number} is under 5 MiB`);
          return part;
        });
        const whole = Buffer.concat(parts.map((part) => part.body));
        const etag = `"${md5(Buffer.concat(parts.map((part) => md5(part.body)))).toString('hex')}-${parts.length}"`;
        objects.set(key, { body: whole, contentType: upload.contentType, etag, modifiedAt: new Date() });
        this.uploads.delete(uploadId!);
        const inner = `<Location>${escapeXml(`${this.url}/${bucket}/${key}`)}</Location><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(etag)}</ETag>`;
        return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml('CompleteMultipartUploadResult', inner) };
      }
      case 'AbortMultipartUpload':
        this.upload(params.get('uploadId'), bucket, key);
        this.uploads.delete(params.get('uploadId')!);
        return { status: 204 };
      case 'Unsupported':
        throw new S3Error(501, 'NotImplemented', `${request.method} ${request.url} is not supported by the test server`);
    }
  }

  private upload(uploadId: string | null, bucket: string, key: string): MultipartUpload {
    const upload = uploadId ? this.uploads.get(uploadId) : undefined;
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw new S3Error(404, 'NoSuchUpload', `no upload ${uploadId}`);
    return upload;
  }

  private list(bucket: string, objects: Map<string, S3Object>, params: URLSearchParams) {
    if (params.has('delimiter')) throw new S3Error(501, 'NotImplemented', 'delimiter is not supported by the test server');
    const prefix = params.get('prefix') ?? '';
    const token = params.get('continuation-token');
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (params.get('start-after') ?? '');
    const maxKeys = Math.min(Number(params.get('max-keys') ?? MAX_KEYS), this.listPageSize, MAX_KEYS);
    const encode = params.get('encoding-type') === 'url' ? encodeURIComponent : (text: string) => text;
    const matching = [...objects.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
    const page = matching.slice(0, maxKeys);
    const truncated = matching.length > page.length;
    const contents = page
      .map((key) => {
        const object = objects.get(key)!;
        return `<Contents><Key>${escapeXml(encode(key))}</Key><LastModified>${object.modifiedAt.toISOString()}</LastModified><ETag>${escapeXml(object.etag)}</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const next = truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!, 'utf8').toString('base64url')}</NextContinuationToken>` : '';
    const inner =
      `<Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(encode(prefix))}</Prefix><KeyCount>${page.length}</KeyCount>` +
      `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${token ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : ''}` +
      `${contents}${next}${params.get('encoding-type') === 'url' ? '<EncodingType>url</EncodingType>' : ''}`;
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml('ListBucketResult', inner) };
  }
}

function operationOf(method: string, key: string, params: URLSearchParams): RecordedS3Request['operation'] {
  if (key === '') {
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'GET' && params.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'POST' && params.has('delete')) return 'DeleteObjects';
    return 'Unsupported';
  }
  switch (method) {
    case 'PUT':
      return params.has('uploadId') && params.has('partNumber') ? 'UploadPart' : 'PutObject';
    case 'GET':
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return params.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST':
      return params.has('uploads') ? 'CreateMultipartUpload' : params.has('uploadId') ? 'CompleteMultipartUpload' : 'Unsupported';
    default:
      return 'Unsupported';
  }
}
