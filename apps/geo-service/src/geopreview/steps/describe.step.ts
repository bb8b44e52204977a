import { defineOptionalStep } from '#shared';
import type { LayerDescription } from '../describe.service.js';
import type { GeopreviewDependencies, GeopreviewInput } from './geopreview.steps.js';
import type { ImportedTable } from './import.step.js';

/** describe: the imported layer's bounding box, fields, feature count, geometry type and SRID. */
export const describeStep = (deps: GeopreviewDependencies) =>
  defineOptionalStep<GeopreviewInput, { import: ImportedTable | undefined }>()({
    name: 'describe',
    version: 1,
    needs: ['import'],
    isApplicable: (ctx) => ctx.outputs.import !== undefined,
    process: (ctx): Promise<LayerDescription> => deps.descriptions.describe(ctx.outputs.import!.table),
    describe: (_ctx, output) => `${output.featureCount.toLocaleString('en')} features, ${output.geometryType}, ${output.layer_fields.length} fields`,
  });
