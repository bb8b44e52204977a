import type { OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { AddressNotAllowedError, HttpClient, isRetryableStatus, type GeoPreviewSubjectV1, type HostPolicy, type JobErrorV1, type RetryOptions } from '#shared';
import type { GeoConfig } from '../config/geo.config.js';
import { layerTableName } from './layer-name.js';
import { pythonJsonDumps } from './python-json.js';

export type PreviewOutcome = { result: Record<string, unknown> } | { error: JobErrorV1 };

/** HDX's placeholder for a value it does not have (`str(None)` in its job processor). */
const NONE = 'None';

/**
 * The `shape_info` HDX's job processor sent the portal, key for key and in its order: `state`, `message`,
 * `layer_id`, `error_type`, `error_class`, and on success `bounding_box` and `layer_fields`.
 */
export function shapeInfo(payload: Pick<GeoPreviewSubjectV1, 'resourceId'>, outcome: PreviewOutcome): Record<string, unknown> {
  if ('error' in outcome) {
    return {
      state: 'failure',
      message: outcome.error.message,
      layer_id: layerTableName(payload.resourceId),
      error_type: outcome.error.type,
      error_class: outcome.error.class,
    };
  }
  // a multi-layer upload is described to the portal by its first layer, the one `layerId` names
  const layers = outcome.result.layers as Record<string, unknown>[] | undefined;
  const layer = layers?.[0] ?? outcome.result;
  return {
    state: 'success',
    message: 'Import successful',
    layer_id: layer.layerId,
    error_type: NONE,
    error_class: NONE,
    bounding_box: layer.bounding_box,
    layer_fields: layer.layer_fields,
  };
}

/** The body of the portal's resource update: `{"id": …, "shape_info": "<JSON>", "batch_mode": "KEEP_OLD"}`, as HDX wrote it. */
export function ckanCallbackBody(payload: Pick<GeoPreviewSubjectV1, 'resourceId'>, outcome: PreviewOutcome): string {
  return pythonJsonDumps({ id: payload.resourceId, shape_info: pythonJsonDumps(shapeInfo(payload, outcome)), batch_mode: 'KEEP_OLD' });
}

/** Longest wait between two tries of a callback. */
const MAX_BACKOFF_MS = 30_000;

/**
 * The Notify step's HTTP callbacks: the CKAN resource update (HDX compatibility) and the caller's `callbackUrl`,
 * through the shared outbound client. Each is retried with backoff on 408, 429, 5xx, timeouts and network errors, a
 * bounded number of times; a callback that still fails is logged, and never fails the import it reports.
 */
export class NotifyService implements OnApplicationShutdown {
  /** The portal's own action API, from the operator's configuration: trusted wherever it is (no host policy). */
  private readonly portal: HttpClient;
  /** A callbackUrl is the caller's: it may reach a private or loopback address only when allow-listed, as downloads. */
  private readonly callbacks: HttpClient;
  private readonly retryOptions: RetryOptions;

  /** The portal's URL and key, and the callbacks' tries, timeout and backoff, are read from `config`. */
  constructor(
    private readonly config: GeoConfig,
    policy: HostPolicy,
    private readonly logger: Logger,
  ) {
    this.portal = new HttpClient({ policy: null, connectTimeoutMs: config.GEOJOBS_GEO_CALLBACK_TIMEOUT_MS });
    this.callbacks = new HttpClient({ policy, connectTimeoutMs: config.GEOJOBS_GEO_CALLBACK_TIMEOUT_MS });
    this.retryOptions = {
      attempts: config.GEOJOBS_GEO_CALLBACK_ATTEMPTS,
      backoff: { baseMs: config.GEOJOBS_GEO_CALLBACK_RETRY_BASE_MS, maxMs: MAX_BACKOFF_MS },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.portal.close(), this.callbacks.close()]);
  }

  async notify(command: { payload: GeoPreviewSubjectV1 }, outcome: PreviewOutcome): Promise<void> {
    const { payload } = command;
    const work: Promise<void>[] = [];
    if (payload.notify?.ckan) work.push(this.ckan(payload, outcome));
    if (payload.notify?.callbackUrl) work.push(this.callback(payload, outcome, payload.notify.callbackUrl));
    await Promise.all(work);
  }

  private async ckan(payload: GeoPreviewSubjectV1, outcome: PreviewOutcome): Promise<void> {
    const { CKAN_API_BASE_URL: base, CKAN_API_KEY: key, CKAN_RESOURCE_UPDATE_ACTION: action } = this.config;
    if (!base || !key) {
      this.logger.error({ resourceId: payload.resourceId }, 'CKAN callback skipped: CKAN_API_BASE_URL or CKAN_API_KEY is not set');
      return;
    }
    const url = `${base.replace(/\/+$/, '')}/${action}`;
    await this.post(this.portal, url, ckanCallbackBody(payload, outcome), { authorization: key }, { resourceId: payload.resourceId, callback: 'ckan' });
  }

  private async callback(payload: GeoPreviewSubjectV1, outcome: PreviewOutcome, url: string): Promise<void> {
    const context = { jobId: payload.jobId, callback: 'callbackUrl' };
    const job = {
      id: payload.jobId,
      type: 'geo.preview',
      state: 'error' in outcome ? 'failed' : 'succeeded',
      input: { datasetId: payload.datasetId, resourceId: payload.resourceId, url: payload.url, format: payload.format },
      result: 'result' in outcome ? outcome.result : null,
      error: 'error' in outcome ? outcome.error : null,
      finishedAt: new Date().toISOString(),
    };
    await this.post(this.callbacks, url, JSON.stringify(job), {}, context);
  }

  private async post(http: HttpClient, url: string, body: string, headers: Record<string, string>, context: Record<string, unknown>): Promise<void> {
    try {
      const response = await http.post(url, body, {
        headers: { 'content-type': 'application/json', ...headers },
        timeoutMs: this.config.GEOJOBS_GEO_CALLBACK_TIMEOUT_MS,
        retry: this.retryOptions,
        onRetry: ({ attempt, status, error, delayMs }) =>
          this.logger.warn({ ...context, attempt, status, err: error?.message, retryInMs: delayMs }, 'callback failed; retrying'),
      });
      if (response.status >= 200 && response.status < 300) {
        this.logger.info({ ...context, status: response.status }, 'callback delivered');
        return;
      }
      const tried = isRetryableStatus(response.status) ? 'callback failed; giving up' : 'callback refused by its receiver; not retried';
      this.logger.error({ ...context, status: response.status, body: response.body.slice(0, 500) }, tried);
    } catch (error) {
      if (error instanceof AddressNotAllowedError) {
        this.logger.warn({ ...context, err: error.message }, 'callback refused');
        return;
      }
      this.logger.error({ ...context, err: (error as Error).message }, 'callback failed; giving up');
    }
  }
}
