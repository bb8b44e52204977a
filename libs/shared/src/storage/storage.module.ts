import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { ServiceConfig } from '../config/config.js';
import { createStorage } from './storage.factory.js';
import type { Storage } from './storage.js';

/** Injection token of the service's `Storage`: `@Inject(STORAGE) storage: Storage`. */
export const STORAGE = Symbol('STORAGE');

@Injectable()
class StorageLifecycle implements OnApplicationShutdown {
  constructor(@Inject(STORAGE) private readonly storage: Storage) {}

  async onApplicationShutdown(): Promise<void> {
    await this.storage.close?.();
  }
}

/** The storage backend the config selects, one per process, injectable everywhere as `STORAGE`. */
@Module({})
export class StorageModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: StorageModule,
      global: true,
      providers: [{ provide: STORAGE, useValue: createStorage(config) }, StorageLifecycle],
      exports: [STORAGE],
    };
  }
}
