import { definePipeline } from '#shared';
import { bundleStep } from './bundle.step.js';
import type { LayersExportDependencies, LayersExportInput } from './layers-export.steps.js';
import { stampsStep } from './stamps.step.js';

/** stamps (always) → bundle (cached while the stamps, formats and name are unchanged and its file is in storage). */
export const layersExportPipeline = (deps: LayersExportDependencies) =>
  definePipeline<LayersExportInput>('export.layers').step(stampsStep(deps)).step(bundleStep(deps));
