import { PackagesSchema1764201600002 } from './1764201600002-PackagesSchema.js';
import { PackagesStepCache1795762028401 } from './1795762028401-PackagesStepCache.js';

export const EXPORT_MIGRATIONS = [PackagesSchema1764201600002, PackagesStepCache1795762028401];
