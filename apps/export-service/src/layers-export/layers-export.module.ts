import { Module } from '@nestjs/common';
import { LayersExportService } from './layers-export.service.js';
import { LayersRepository } from './layers.repository.js';

@Module({
  providers: [LayersExportService, LayersRepository],
  exports: [LayersExportService],
})
export class LayersExportModule {}
