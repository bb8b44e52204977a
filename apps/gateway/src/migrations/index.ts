import { JobsSchema1764201600000 } from './1764201600000-JobsSchema.js';

export const GATEWAY_MIGRATIONS = [JobsSchema1764201600000];
