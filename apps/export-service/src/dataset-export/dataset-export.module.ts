import { Module } from '@nestjs/common';
import { DatasetExportService } from './dataset-export.service.js';

@Module({
  providers: [DatasetExportService],
  exports: [DatasetExportService],
})
export class DatasetExportModule {}
