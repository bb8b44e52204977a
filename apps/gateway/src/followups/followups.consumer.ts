import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Broker, QUEUES } from '#shared';
import { CkanCallbackService } from '../ckan/ckan-callback.service.js';

/** followup_q: what runs after a job has settled, written to the outbox when it settled (so once per outcome). */
@Injectable()
export class FollowupsConsumer implements OnModuleInit {
  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(CkanCallbackService) private readonly ckanCallbacks: CkanCallbackService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.broker.consumeCommands(QUEUES.followup, 20, {
      'followup.ckan-callback': ({ payload }) => this.ckanCallbacks.send(payload.jobId),
    });
  }
}
