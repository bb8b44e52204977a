import { LayersSchema1764201600001 } from './1764201600001-LayersSchema.js';
import { LayersStepCache1764201800000 } from './1764201800000-LayersStepCache.js';
import { LayersStaging1764500000000 } from './1764500000000-LayersStaging.js';

export const GEO_MIGRATIONS = [LayersSchema1764201600001, LayersStepCache1764201800000, LayersStaging1764500000000];
