import { Inject, Injectable } from '@nestjs/common';
import { humanSize, STORAGE, type Storage } from '#shared';
import type { FileListingDto, ListFilesQuery, StoredFileDto } from './dto/list-files.dto.js';

const DEFAULT_LIMIT = 1_000;

/** What is in storage (the local folder or the S3 bucket), for operators. */
@Injectable()
export class FilesService {
  constructor(@Inject(STORAGE) private readonly storage: Storage) {}

  async list(query: ListFilesQuery): Promise<FileListingDto> {
    const prefix = query.prefix ?? '';
    const limit = query.limit ?? DEFAULT_LIMIT;
    const files: StoredFileDto[] = [];
    let truncated = false;
    // the listing is streamed page by page: stop reading as soon as one more than asked for shows up
    for await (const object of this.storage.list(prefix)) {
      if (files.length === limit) {
        truncated = true;
        break;
      }
      files.push({ key: object.key, size: object.size, humanSize: humanSize(object.size), modifiedAt: object.modifiedAt.toISOString() });
    }
    const totalSize = files.reduce((sum, file) => sum + file.size, 0);
    return { prefix, backend: this.storage.kind, files, count: files.length, totalSize, totalHumanSize: humanSize(totalSize), truncated };
  }
}
