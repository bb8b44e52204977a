import type { ContractsOf } from './contract.js';
import { GEO_EVENT_CONTRACTS, type GeoEvents } from './geo.events.js';
import { JOB_EVENT_CONTRACTS, type JobEvents } from './job.events.js';

/** Every event, by routing key. */
export interface Events extends JobEvents, GeoEvents {}

export type EventKey = keyof Events;

export const EVENT_CONTRACTS: ContractsOf<Events> = { ...JOB_EVENT_CONTRACTS, ...GEO_EVENT_CONTRACTS };
