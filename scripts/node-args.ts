/**
 * `node dist/scripts/node-args.js <service>` prints the Node flags the service runs with (SERVICE_NODE_ARGS), for
 * the shell scripts and docker-compose.yml that start it: `node $(node dist/scripts/node-args.js export-service) …`.
 */
import { serviceNodeArgs } from '../libs/shared/src/bootstrap/node-args.js';

const service = process.argv[2];
if (!service) {
  console.error('usage: node dist/scripts/node-args.js <service>');
  process.exit(2);
}
console.log(serviceNodeArgs(service).join(' '));
