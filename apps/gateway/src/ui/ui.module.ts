import { Module } from '@nestjs/common';
import { UiController } from './ui.controller.js';

/** The operators' dashboard at /ui: the built front end (apps/gateway/ui), served with cache headers. */
@Module({ controllers: [UiController] })
export class UiModule {}
