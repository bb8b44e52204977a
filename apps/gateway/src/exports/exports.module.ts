import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { ExportsController } from './exports.controller.js';
import { ExportsService } from './exports.service.js';

/** `POST /exports`: layers, a portal dataset, or a database file, as a downloadable ZIP. */
@Module({
  imports: [JobsModule],
  controllers: [ExportsController],
  providers: [ExportsService],
})
export class ExportsModule {}
