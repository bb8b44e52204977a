import { LayersSchema1764201600001 } from './1764201600001-LayersSchema.js';

export const GEO_MIGRATIONS = [LayersSchema1764201600001];
