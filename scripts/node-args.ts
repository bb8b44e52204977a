/**
 * `node dist/scripts/node-args.js <service>` prints the Node flags the service runs with, `--env <service>` the
 * environment its process starts with (`NAME=value` words), for the shell scripts and docker-compose.yml that start
 * it: `env $(node dist/scripts/node-args.js --env export-service) node $(node dist/scripts/node-args.js export-service) …`.
 */
import { serviceNodeArgs, serviceProcessEnv } from '../libs/shared/src/bootstrap/node-args.js';

const [first, second] = process.argv.slice(2);
const service = first === '--env' ? second : first;
if (!service) {
  console.error('usage: node dist/scripts/node-args.js [--env] <service>');
  process.exit(2);
}
const words = first === '--env' ? Object.entries(serviceProcessEnv(service)).map(([name, value]) => `${name}=${value}`) : [...serviceNodeArgs(service)];
console.log(words.join(' '));
