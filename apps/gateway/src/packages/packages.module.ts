import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { CcgController } from './ccg.controller.js';
import { PackagesController } from './packages.controller.js';
import { PackagesRepository } from './packages.repository.js';
import { PackagesService } from './packages.service.js';

/** Data packages: boundaries, processors, packages, and the CCG (irv-autopkg) API under /v1. */
@Module({
  imports: [JobsModule],
  controllers: [PackagesController, CcgController],
  providers: [PackagesRepository, PackagesService],
})
export class PackagesModule {}
