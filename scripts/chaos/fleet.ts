import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export type ServiceName = 'gateway' | 'geo-service' | 'export-service' | 'analytics-service';

export const SERVICE_NAMES: readonly ServiceName[] = ['gateway', 'geo-service', 'export-service', 'analytics-service'];

/** The variable each service reads its HTTP port from. */
const PORT_VARIABLE: Record<ServiceName, string> = {
  gateway: 'GEOJOBS_GATEWAY_PORT',
  'geo-service': 'GEOJOBS_GEO_PORT',
  'export-service': 'GEOJOBS_EXPORT_PORT',
  'analytics-service': 'GEOJOBS_ANALYTICS_PORT',
};

/**
 * One copy of a service, run from dist/ as its own process the way scripts/start.sh runs it, under a supervisor that
 * starts it again a moment after it exits (as systemd's Restart=always or a container orchestrator would): a copy killed
 * with SIGKILL, or one that could not boot while PostgreSQL was down, comes back by itself.
 */
export class ServiceCopy {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly log: WriteStream;
  /** Times the supervisor started it, the first included. */
  starts = 0;

  constructor(
    readonly service: ServiceName,
    readonly copy: number,
    readonly port: number,
    private readonly root: string,
    private readonly env: Record<string, string>,
    logDir: string,
    private readonly restartDelayMs: number,
  ) {
    this.log = createWriteStream(join(logDir, `${service}-${copy}.log`), { flags: 'a' });
  }

  get name(): string {
    return `${this.service}#${this.copy}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.stopping = false;
    this.starts++;
    const child = spawn(process.execPath, [join(this.root, 'dist', 'apps', this.service, 'src', 'main.js')], {
      cwd: this.root,
      env: { ...this.env, [PORT_VARIABLE[this.service]]: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.log.write(`[chaos] ${this.name} (pid ${child.pid}) exited with ${signal ?? code}\n`);
        if (this.child === child) this.child = null;
        resolve();
        if (!this.stopping) setTimeout(() => this.stopping || this.child || this.start(), this.restartDelayMs);
      }),
    );
  }

  /** SIGKILL: the copy dies mid-work, acking and committing nothing more; the supervisor starts it again. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** SIGKILL, not restarted: for a run that is interrupted. */
  abandon(): void {
    this.stopping = true;
    this.child?.kill('SIGKILL');
  }

  async healthy(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
    } catch {
      return false;
    }
  }

  /** SIGTERM (a graceful stop), SIGKILL after `graceMs`; not restarted. */
  async stop(graceMs = 20_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
