import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { LayersController } from './layers.controller.js';
import { LayersRepository } from './layers.repository.js';
import { LayersService } from './layers.service.js';
import { TilesAccessGuard } from './tiles-access.guard.js';
import { TilesController } from './tiles.controller.js';
import { TilesRoute } from './tiles.route.js';
import { TilesService } from './tiles.service.js';

/** Layer descriptions, deletes and vector tiles; layers are read through the read-only layers reader role. */
@Module({
  imports: [JobsModule],
  controllers: [LayersController, TilesController],
  providers: [LayersRepository, LayersService, TilesService, TilesRoute, TilesAccessGuard],
  exports: [LayersService],
})
export class LayersModule {}
