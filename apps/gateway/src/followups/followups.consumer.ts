import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QUEUES, Workers } from '#shared';
import { CkanCallbackService } from '../ckan/ckan-callback.service.js';
import { FollowupsService } from './followups.service.js';

const PREFETCH = 50;

/**
 * followup_q: what runs after a job has settled — its followup actions, and the CKAN protocol's callback —
 * written to the outbox in the transaction that settled it, so once per outcome. These are not jobs of their own:
 * no lifecycle, no cancellation; a failure is retried, then dead-lettered.
 */
@Injectable()
export class FollowupsConsumer implements OnModuleInit {
  constructor(
    @Inject(Workers) private readonly workers: Workers,
    @Inject(FollowupsService) private readonly followups: FollowupsService,
    @Inject(CkanCallbackService) private readonly ckanCallbacks: CkanCallbackService,
  ) {}

  onModuleInit(): Promise<void> {
    return this.workers.start({
      queue: QUEUES.followup,
      prefetch: PREFETCH,
      handlers: {
        'followup.run': { message: (command) => this.followups.run(command) },
        'followup.ckan-callback': { message: ({ payload }) => this.ckanCallbacks.send(payload.jobId) },
      },
    });
  }
}
