import type { ServiceConfig } from '../config/config.js';
import { LocalStorage } from './local-storage.js';
import { S3Storage } from './s3-storage.js';
import type { Storage } from './storage.js';

/** The storage backend the service's configuration selects. */
export function createStorage(config: ServiceConfig): Storage {
  switch (config.GEOJOBS_STORAGE) {
    case 'local':
      return new LocalStorage(config.GEOJOBS_STORAGE_DIR);
    case 's3':
      return new S3Storage({
        // the config validation requires a bucket name when GEOJOBS_STORAGE is s3
        bucket: config.GEOJOBS_S3_BUCKET!,
        endpoint: config.GEOJOBS_S3_ENDPOINT,
        region: config.GEOJOBS_S3_REGION,
        accessKeyId: config.GEOJOBS_S3_ACCESS_KEY_ID,
        secretAccessKey: config.GEOJOBS_S3_SECRET_ACCESS_KEY,
        forcePathStyle: config.GEOJOBS_S3_FORCE_PATH_STYLE === 'true',
      });
  }
}
