import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Response } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/** Result files in the local storage folder, streamed to the client (never read whole into memory). */
@Injectable()
export class ResultFiles {
  private readonly root: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.root = resolve(config.GEOJOBS_STORAGE_DIR);
  }

  async stream(relative: string, response: Response): Promise<void> {
    const path = resolve(this.root, relative);
    if (!path.startsWith(this.root + sep)) throw new NotFoundException('no such result file');
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new NotFoundException('the result file is gone (expired?)');
    response.setHeader('content-length', String(info.size));
    response.setHeader('content-disposition', `attachment; filename="${basename(path).replace(/"/g, '')}"`);
    response.setHeader('content-type', 'application/octet-stream');
    await pipeline(createReadStream(path), response);
  }
}
