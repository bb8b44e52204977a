import type { Logger } from 'pino';

/**
 * Runs `work` every `intervalMs`, never two at once: the next run is scheduled when one ends, so a slow run delays
 * the next rather than piling up. A failed run is logged and the loop goes on. The sweepers (saga deadlines,
 * retention, geopreview leftovers) are built on it; `stop` waits for a run in progress.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.work()
        .catch((error: unknown) => this.logger.warn({ err: error }, `${this.name} failed`))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.intervalMs).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
