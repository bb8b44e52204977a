import { definePipeline } from '#shared';
import { describeStep } from './describe.step.js';
import { downloadStep } from './download.step.js';
import type { GeopreviewDependencies, GeopreviewInput, OpenedLayers } from './geopreview.steps.js';
import { importStep } from './import.step.js';
import { openStep } from './open.step.js';
import { shareStep } from './share.step.js';
import { unpackStep } from './unpack.step.js';

/**
 * download → unpack → open → share (several layers: one subtask each) → import (with clean) → describe. Notify is
 * the service's, since it runs whatever the outcome. Built per run, around the datasets that run opens.
 */
export const geopreviewPipeline = (deps: GeopreviewDependencies, opened: OpenedLayers) =>
  definePipeline<GeopreviewInput>('geo.preview')
    .step(downloadStep(deps))
    .step(unpackStep(deps))
    .step(openStep(deps, opened))
    .step(shareStep(deps))
    .step(importStep(deps, opened))
    .step(describeStep(deps));
