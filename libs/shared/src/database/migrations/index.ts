import { DatabaseAccess1764201500000 } from './1764201500000-DatabaseAccess.js';

export const SHARED_MIGRATIONS = [DatabaseAccess1764201500000];
