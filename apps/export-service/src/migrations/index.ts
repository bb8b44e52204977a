import { PackagesSchema1764201600002 } from './1764201600002-PackagesSchema.js';

export const EXPORT_MIGRATIONS = [PackagesSchema1764201600002];
