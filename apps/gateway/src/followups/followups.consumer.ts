import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Broker, QUEUES } from '#shared';
import { FollowupsService } from './followups.service.js';

const PREFETCH = 50;

/** followup_q: the followups of finished jobs, one action per command. */
@Injectable()
export class FollowupsConsumer implements OnModuleInit {
  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(FollowupsService) private readonly followups: FollowupsService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.broker.consumeCommands(QUEUES.followup, PREFETCH, {
      'followup.run': (command) => this.followups.run(command),
    });
  }
}
