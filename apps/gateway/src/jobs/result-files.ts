import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { STORAGE, StorageNotFoundError, type Storage } from '#shared';
import { ResultFileNotFoundError } from '../job-model/job.errors.js';

/** Result files in storage (a local folder or S3), streamed to the client, never read whole into memory. */
@Injectable()
export class ResultFiles {
  constructor(@Inject(STORAGE) private readonly storage: Storage) {}

  async stream(key: string, response: Response): Promise<void> {
    const gone = () => new ResultFileNotFoundError('the result file is gone (expired?)');
    const object = await this.storage.stat(key);
    if (!object) throw gone();
    // removed between the stat and the read (retention runs at any time): still a 404, not a 500
    const body = await this.storage.read(key).catch((error: unknown) => {
      throw error instanceof StorageNotFoundError ? gone() : error;
    });
    response.setHeader('content-length', String(object.size));
    // storage keys hold only letters, digits and ._-=+@, so the name needs no quoting beyond the quotes
    response.setHeader('content-disposition', `attachment; filename="${key.split('/').at(-1)}"`);
    response.setHeader('content-type', 'application/octet-stream');
    response.setHeader('last-modified', object.modifiedAt.toUTCString());
    await pipeline(body, response);
  }
}
