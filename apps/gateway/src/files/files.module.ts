import { Module } from '@nestjs/common';
import { FilesController } from './files.controller.js';
import { FilesService } from './files.service.js';

/** `GET /files`: the storage listing; storage itself comes from the global StorageModule. */
@Module({
  controllers: [FilesController],
  providers: [FilesService],
})
export class FilesModule {}
