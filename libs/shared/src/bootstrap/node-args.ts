/**
 * Node's flags each service runs with, wherever it is started: `npm start` (scripts/start.sh), the npm `start:*`
 * scripts and docker-compose.yml read them through `node dist/scripts/node-args.js <service>`; the test harness and
 * the benchmarks spawn the services with them.
 *
 * export-service: V8's young generation capped at 8 MB a semi-space. Node 24 lets it grow to 64 MB a semi-space
 * under a stream of rows (a Firebird convert's decoded values), which held about 100 MB more resident memory in
 * bench:convert for no measurable gain: nearly every row dies young, so a smaller young generation costs
 * scavenges of the same few survivors, only more often.
 */
export const SERVICE_NODE_ARGS = {
  gateway: [],
  'geo-service': [],
  'export-service': ['--max-semi-space-size=8'],
  'analytics-service': [],
} as const satisfies Record<string, readonly string[]>;

export type ServiceWithNodeArgs = keyof typeof SERVICE_NODE_ARGS;

/** The flags of a service by its name (an app folder under apps/). */
export function serviceNodeArgs(service: string): readonly string[] {
  if (!(service in SERVICE_NODE_ARGS)) throw new Error(`no service "${service}" (one of ${Object.keys(SERVICE_NODE_ARGS).join(', ')})`);
  return SERVICE_NODE_ARGS[service as ServiceWithNodeArgs];
}
