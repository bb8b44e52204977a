import type { Logger } from 'pino';
import { guardedPost, type GeoPreviewSubjectV1, type GuardedResponse, type HostPolicy, type JobErrorV1 } from '#shared';
import type { GeoConfig } from '../config/geo.config.js';
import { layerTableName } from './layer-name.js';
import { pythonJsonDumps } from './python-json.js';

export type PreviewOutcome = { result: Record<string, unknown> } | { error: JobErrorV1 };

export interface CallbackPolicy {
  attempts: number;
  timeoutMs: number;
  retryBaseMs: number;
}

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

class Retryable extends Error {}

/** The caller's callbackUrl points at a private or loopback address that is not allow-listed: not retried. */
class CallbackRefusedError extends Error {
  override readonly name = 'CallbackRefusedError';
}

type Send = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<GuardedResponse>;

/** The portal's own action API, from the operator's configuration: trusted wherever it is (no host policy). */
const sendToPortal: Send = async (url, body, headers, timeoutMs) => {
  const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text().catch(() => '') };
};

/**
 * The Notify step's HTTP callbacks: the CKAN resource update (HDX compatibility) and the caller's `callbackUrl`.
 * Each is retried with exponential backoff on 429, 5xx, timeouts and network errors, a bounded number of times; a
 * callback that still fails is logged, and never fails the import it reports.
 */
export class NotifyService {
  constructor(
    private readonly config: GeoConfig,
    private readonly policy: HostPolicy,
    private readonly retry: CallbackPolicy,
    private readonly logger: Logger,
  ) {}

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
    await this.post(sendToPortal, url, ckanCallbackBody(payload, outcome), { authorization: key }, { resourceId: payload.resourceId, callback: 'ckan' });
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
    // a callback may reach a private or loopback address only when allow-listed, as downloads
    const send: Send = (target, body, headers, timeoutMs) =>
      guardedPost(this.policy, target, body, headers, timeoutMs, (host, address) => new CallbackRefusedError(`${host} (${address}) is not a public address and not in GEOJOBS_ALLOWED_HOSTS`));
    await this.post(send, url, JSON.stringify(job), {}, context);
  }

  private async post(send: Send, url: string, body: string, headers: Record<string, string>, context: Record<string, unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await send(url, body, { 'content-type': 'application/json', ...headers }, this.retry.timeoutMs);
        const text = response.body;
        if (response.status >= 200 && response.status < 300) {
          this.logger.info({ ...context, status: response.status }, 'callback delivered');
          return;
        }
        if (response.status === 429 || response.status >= 500) throw new Retryable(`HTTP ${response.status}: ${text.slice(0, 200)}`);
        this.logger.error({ ...context, status: response.status, body: text.slice(0, 500) }, 'callback refused by its receiver; not retried');
        return;
      } catch (error) {
        if (error instanceof CallbackRefusedError) {
          this.logger.warn({ ...context, err: error.message }, 'callback refused');
          return;
        }
        if (attempt >= this.retry.attempts) {
          this.logger.error({ ...context, attempts: attempt, err: (error as Error).message }, 'callback failed; giving up');
          return;
        }
        const delay = Math.min(this.retry.retryBaseMs * 2 ** (attempt - 1), 30_000) * (0.5 + Math.random() / 2);
        this.logger.warn({ ...context, attempt, err: (error as Error).message, retryInMs: Math.round(delay) }, 'callback failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
