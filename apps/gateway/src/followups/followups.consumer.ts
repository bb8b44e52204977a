import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Broker, QUEUES } from '#shared';
import { CkanCallbackService } from '../ckan/ckan-callback.service.js';
import { FollowupsService } from './followups.service.js';

const PREFETCH = 50;

/**
 * followup_q: what runs after a job has settled — its followup actions, and the CKAN protocol's callback —
 * written to the outbox in the transaction that settled it, so once per outcome.
 */
@Injectable()
export class FollowupsConsumer implements OnModuleInit {
  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(FollowupsService) private readonly followups: FollowupsService,
    @Inject(CkanCallbackService) private readonly ckanCallbacks: CkanCallbackService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.broker.consumeCommands(QUEUES.followup, PREFETCH, {
      'followup.run': (command) => this.followups.run(command),
      'followup.ckan-callback': ({ payload }) => this.ckanCallbacks.send(payload.jobId),
    });
  }
}
