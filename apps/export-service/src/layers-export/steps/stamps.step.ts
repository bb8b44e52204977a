import { defineStep } from '#shared';
import type { LayerStamp } from '../layers.repository.js';
import { LayerGoneError, type LayersExportDependencies, type LayersExportInput } from './layers-export.steps.js';

export interface LayerStamps {
  layers: LayerStamp[];
}

/**
 * stamps: each layer's import stamp, read on every run (the step is never taken from the cache): the bundle step
 * after it is keyed by them, so a layer imported again since the last export makes a new bundle.
 */
export const stampsStep = (deps: LayersExportDependencies) =>
  defineStep<LayersExportInput>()({
    name: 'stamps',
    version: 1,
    needs: [],
    isNeeded: () => true,
    async process(ctx): Promise<LayerStamps> {
      const layers = await deps.repository.stamps(ctx.input.layers);
      const found = new Set(layers.map((layer) => layer.layer));
      const gone = ctx.input.layers.filter((layer) => !found.has(layer));
      if (gone.length > 0) throw new LayerGoneError(gone);
      return { layers };
    },
    describe: (_ctx, output: LayerStamps) => `${output.layers.length} layer${output.layers.length === 1 ? '' : 's'}`,
  });
