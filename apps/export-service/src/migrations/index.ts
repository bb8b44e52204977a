import { PackagesSchema1764201600002 } from './1764201600002-PackagesSchema.js';
import { PackagesStepCache1764201800001 } from './1764201800001-PackagesStepCache.js';
import { ExportLayersReader1764600000000 } from './1764600000000-ExportLayersReader.js';
import { PackagesBoundaries1764700000000 } from './1764700000000-PackagesBoundaries.js';

export const EXPORT_MIGRATIONS = [PackagesSchema1764201600002, PackagesStepCache1764201800001, ExportLayersReader1764600000000, PackagesBoundaries1764700000000];
