import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { isFinal, type JobView } from '../job-model/job.model.js';
import { JobsService } from '../jobs/jobs.service.js';
import { LayersRepository } from './layers.repository.js';

export interface LayerView {
  layerId: string;
  bounding_box: string | null;
  layer_fields: { field_name: string; data_type: string }[];
  featureCount: number;
  geometryType: string;
  geometryColumn: string;
  srid: number;
  /** URL template of the layer's vector tiles. */
  tiles: string;
}

/** The outcome of a delete: done (`job` succeeded) or still running after the wait (`job` queued or running). */
export interface Deletion {
  done: boolean;
  job: JobView;
}

@Injectable()
export class LayersService {
  constructor(
    @Inject(LayersRepository) private readonly layers: LayersRepository,
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async describe(layerId: string): Promise<LayerView> {
    const layer = await this.layers.find(layerId);
    if (!layer) throw new NotFoundException(`no layer ${layerId}`);
    const summary = await this.layers.summary(layer);
    return {
      layerId,
      ...summary,
      layer_fields: layer.columns.map((column) => ({ field_name: column.name, data_type: column.dataType })),
      geometryType: layer.geometryType,
      geometryColumn: layer.geometryColumn,
      srid: layer.srid,
      tiles: `/layers/${layerId}/tiles/{z}/{x}/{y}.mvt`,
    };
  }

  /** 404 for a layer that is not there (by layer id); a resource with no layer is deleted as a no-op. */
  async delete(principal: Principal, target: { layerId: string } | { resourceId: string }): Promise<Deletion> {
    if ('layerId' in target && !(await this.layers.find(target.layerId))) throw new NotFoundException(`no layer ${target.layerId}`);
    // the gateway may only read the layers schema: geo-service drops the table, as a geo.layer.delete job
    const [{ job }] = await this.jobs.submit(principal, [{ type: 'geo.layer.delete', input: { ...target } }], '');
    return this.settle(principal, job);
  }

  /** Waits (up to GEOJOBS_LAYER_DELETE_WAIT_MS) for the job to end. */
  private async settle(principal: Principal, job: JobView): Promise<Deletion> {
    const deadline = Date.now() + this.config.GEOJOBS_LAYER_DELETE_WAIT_MS;
    let current = job;
    while (!isFinal(current.state) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = await this.jobs.get(principal, job.id);
    }
    return { done: isFinal(current.state), job: current };
  }
}
