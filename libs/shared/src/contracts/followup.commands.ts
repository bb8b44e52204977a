import { IsUUID } from 'class-validator';
import type { ContractsOf } from './contract.js';

/** POST the finished job's dict to the result_url a CKAN service-provider client gave. */
export class CkanCallbackV1 {
  @IsUUID()
  jobId!: string;
}

/** Work the gateway does after a job has settled, from followup_q. */
export interface FollowupCommands {
  'followup.ckan-callback': CkanCallbackV1;
}

export const FOLLOWUP_COMMAND_CONTRACTS: ContractsOf<FollowupCommands> = {
  'followup.ckan-callback': { version: 1, payload: CkanCallbackV1 },
};
