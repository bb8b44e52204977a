import { LayersSchema1764201600001 } from './1764201600001-LayersSchema.js';
import { LayersStepCache1795762028400 } from './1795762028400-LayersStepCache.js';

export const GEO_MIGRATIONS = [LayersSchema1764201600001, LayersStepCache1795762028400];
