/**
 * How each service's process runs, wherever it is started: its Node flags and the environment its C libraries read
 * at start. `npm start` (scripts/start.sh), the npm `start:*` scripts and docker-compose.yml read them through
 * `node dist/scripts/node-args.js [--env] <service>`; the test harness and the benchmarks spawn the services with them.
 *
 * export-service, measured with bench:convert:
 * - V8's young generation capped at 8 MB a semi-space. Node 24 lets it grow to 64 MB a semi-space under a stream of
 *   rows (a Firebird convert's decoded values): about 100 MB more resident memory for no measurable gain, as nearly
 *   every row dies young and a smaller young generation scavenges the same few survivors, only more often.
 * - V8's old generation grown by a quarter of what a full collection leaves, not by V8's own factor (up to 4×): rows
 *   promoted while buffered die there, and the heap grew from 55 MB live to 85–99 MB committed between collections of
 *   a Firebird convert. With the smaller factor a collection comes every 3–4 s of a convert, in 10–30 ms; no
 *   difference in time measured, and a larger live set still gets the room it needs (no cap, unlike
 *   --max-old-space-size).
 * - glibc's malloc held to 2 arenas: GDAL's translations run on libuv's threads, and an arena of its own for each
 *   thread kept about 55 MB more resident once the slices were written.
 * - libuv's pool of 8 threads instead of 4: a bundle has GDAL write two formats at once, each holding a thread for the
 *   whole translation, and two exports run at once (prefetch 2); with 4 threads the ZIP's deflate and the file writes
 *   would wait for a translation to end.
 */
export const SERVICE_RUNTIME = {
  gateway: { nodeArgs: [], env: {} },
  'geo-service': { nodeArgs: [], env: {} },
  'export-service': { nodeArgs: ['--max-semi-space-size=8', '--heap-growing-percent=25'], env: { MALLOC_ARENA_MAX: '2', UV_THREADPOOL_SIZE: '8' } },
  'analytics-service': { nodeArgs: [], env: {} },
} as const satisfies Record<string, { nodeArgs: readonly string[]; env: Readonly<Record<string, string>> }>;

export type ServiceWithRuntime = keyof typeof SERVICE_RUNTIME;

/** A service's runtime by its name (an app folder under apps/). */
export function serviceRuntime(service: string): { nodeArgs: readonly string[]; env: Readonly<Record<string, string>> } {
  if (!(service in SERVICE_RUNTIME)) throw new Error(`no service "${service}" (one of ${Object.keys(SERVICE_RUNTIME).join(', ')})`);
  return SERVICE_RUNTIME[service as ServiceWithRuntime];
}

/** The Node flags a service runs with. */
export const serviceNodeArgs = (service: string): readonly string[] => serviceRuntime(service).nodeArgs;

/** The environment a service's process starts with, besides its configuration. */
export const serviceProcessEnv = (service: string): Readonly<Record<string, string>> => serviceRuntime(service).env;
