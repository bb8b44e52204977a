import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { STORAGE } from '../storage/storage.module.js';
import type { Storage } from '../storage/storage.js';

/** `/health` reports storage down when `storage.check()` fails or does not answer within the timeout. */
@Injectable()
export class StorageHealthIndicator {
  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'storage', timeoutMs = 1_500) {
    const session = this.health.check(key);
    const signal = AbortSignal.timeout(timeoutMs);
    // the signal cancels an S3 request; the race also covers a local folder on a hung network mount
    const timedOut = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    try {
      await Promise.race([this.storage.check({ signal }), timedOut]);
      return session.up({ backend: this.storage.kind });
    } catch (error) {
      const message = signal.aborted ? `no answer within ${timeoutMs} ms` : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return session.down({ backend: this.storage.kind, message });
    }
  }
}
