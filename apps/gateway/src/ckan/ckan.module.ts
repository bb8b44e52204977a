import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { CkanCallbackRepository } from './ckan-callback.repository.js';
import { CkanCallbackService } from './ckan-callback.service.js';
import { CkanController } from './ckan.controller.js';
import { CkanService } from './ckan.service.js';

@Module({
  imports: [JobsModule],
  controllers: [CkanController],
  providers: [CkanService, CkanCallbackService, CkanCallbackRepository],
  exports: [CkanCallbackService],
})
export class CkanModule {}
