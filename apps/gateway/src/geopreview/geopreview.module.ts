import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { LayersModule } from '../layers/layers.module.js';
import { GeopreviewController } from './geopreview.controller.js';
import { GeopreviewService } from './geopreview.service.js';
import { HdxController } from './hdx.controller.js';

/** `POST /geopreview` and HDX's add-layer / delete-one-layer. */
@Module({
  imports: [JobsModule, LayersModule],
  controllers: [GeopreviewController, HdxController],
  providers: [GeopreviewService],
})
export class GeopreviewModule {}
