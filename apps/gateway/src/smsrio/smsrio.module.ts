import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { SmsRioController } from './smsrio.controller.js';
import { SmsRioRepository } from './smsrio.repository.js';
import { SmsRioService } from './smsrio.service.js';

/** SMS-Rio's GDB export API (`/export/`, `/check/{id}`, `/list/`, `/clear/`) over `export.convert` jobs. */
@Module({
  imports: [JobsModule],
  controllers: [SmsRioController],
  providers: [SmsRioService, SmsRioRepository],
})
export class SmsRioModule {}
