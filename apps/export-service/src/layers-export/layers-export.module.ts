import { Module } from '@nestjs/common';
import { LayersExportService } from './layers-export.service.js';

@Module({
  providers: [LayersExportService],
  exports: [LayersExportService],
})
export class LayersExportModule {}
