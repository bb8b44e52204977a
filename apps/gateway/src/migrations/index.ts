import { JobsSchema1764201600000 } from './1764201600000-JobsSchema.js';
import { Jobs1764201700000 } from './1764201700000-Jobs.js';
import { Sagas1764300000000 } from './1764300000000-Sagas.js';
import { FollowupClaims1764400000000 } from './1764400000000-FollowupClaims.js';
import { DashboardSearch1764810000000 } from './1764810000000-DashboardSearch.js';
import { OwnerQueueCap1764900000000 } from './1764900000000-OwnerQueueCap.js';
import { QuickJobTransitions1765000000000 } from './1765000000000-QuickJobTransitions.js';
import { TransitionsInOneJoin1765100000000 } from './1765100000000-TransitionsInOneJoin.js';
import { QueuedAtCreation1765200000000 } from './1765200000000-QueuedAtCreation.js';

export const GATEWAY_MIGRATIONS = [JobsSchema1764201600000, Jobs1764201700000, Sagas1764300000000, FollowupClaims1764400000000, DashboardSearch1764810000000, OwnerQueueCap1764900000000, QuickJobTransitions1765000000000, TransitionsInOneJoin1765100000000, QueuedAtCreation1765200000000];
