import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Storage } from '#shared';
import type { ProcessorFile } from '../processors/processor.js';
import type { OutputFile, OutputKey } from './outputs.repository.js';

/** Where an output's files live in storage: `packages/<boundary>/<processor>/<version>/`. */
export const outputPrefix = (key: OutputKey): string => `packages/${key.boundary}/${key.processor}/${key.version}/`;

/** The folder of a boundary's package: datapackage.json and the provenance log sit here. */
export const packagePrefix = (boundary: string): string => `packages/${boundary}/`;

/** SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Uploads a processor's files from its scratch folder, each with its size and `sha256:<hex>` hash. */
export async function uploadOutput(storage: Storage, key: OutputKey, scratch: string, files: ProcessorFile[], signal: AbortSignal): Promise<OutputFile[]> {
  const uploaded: OutputFile[] = [];
  for (const file of files) {
    const local = join(scratch, file.name);
    const hash = await sha256File(local);
    const path = `${outputPrefix(key)}${file.name}`;
    const stored = await storage.upload(path, local, { contentType: file.mediatype, signal });
    uploaded.push({ path, name: file.name, format: file.format, mediatype: file.mediatype, bytes: stored.size, hash: `sha256:${hash}` });
  }
  return uploaded;
}
