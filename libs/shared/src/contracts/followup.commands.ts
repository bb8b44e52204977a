import { IsIn, IsInt, IsUUID, Max, Min } from 'class-validator';
import type { ContractsOf } from './contract.js';

export const FOLLOWUP_OUTCOMES = ['succeeded', 'failed'] as const;
export type FollowupOutcome = (typeof FOLLOWUP_OUTCOMES)[number];

/**
 * Run one followup action of a finished job: `onSuccess[index]` when the job succeeded, `onFailure[index]` when
 * it failed. The action itself (its URL, its secret) stays in the jobs table; the gateway's followup runner
 * reads it from there, so no secret travels on the broker.
 */
export class FollowupRunV1 {
  @IsUUID()
  jobId!: string;

  @IsIn(FOLLOWUP_OUTCOMES)
  outcome!: FollowupOutcome;

  @IsInt()
  @Min(0)
  @Max(999)
  index!: number;
}

/** POST the finished job's dict to the result_url a CKAN service-provider client gave. */
export class CkanCallbackV1 {
  @IsUUID()
  jobId!: string;
}

/** Work the gateway does after a job has settled, from followup_q. */
export interface FollowupCommands {
  'followup.run': FollowupRunV1;
  'followup.ckan-callback': CkanCallbackV1;
}

export const FOLLOWUP_COMMAND_CONTRACTS: ContractsOf<FollowupCommands> = {
  'followup.run': { version: 1, payload: FollowupRunV1 },
  'followup.ckan-callback': { version: 1, payload: CkanCallbackV1 },
};
