import type { ServiceConfig } from '../config/config.js';
import { LocalStorage } from './local-storage.js';
import type { Storage } from './storage.js';

/** The storage backend the service's configuration selects. */
export function createStorage(config: ServiceConfig): Storage {
  switch (config.GEOJOBS_STORAGE) {
    case 'local':
      return new LocalStorage(config.GEOJOBS_STORAGE_DIR);
    case 's3':
      throw new Error('the S3 storage backend is not built yet');
  }
}
