import { HttpClient, HttpRequestError, JobFailure, type RetryOptions } from '#shared';
import { readPackageShow, type PortalDataset } from './package-show.js';

/** Per try: the portal's answer must start within this (package_show answers in well under a second). */
const TIMEOUT_MS = 20_000;
/**
 * A portal down for a moment (a deploy, a restart) is tried again: five tries over about 8 s to 15 s. Longer than that
 * and the export fails with the portal's answer, which is what the user can act on.
 */
export const PACKAGE_SHOW_RETRY: RetryOptions = { attempts: 5, backoff: { baseMs: 1_000, maxMs: 8_000 } };

export interface PortalSettings {
  /** `https://data.example.org/api/3/action` */
  baseUrl: string | undefined;
  apiKey: string | undefined;
}

/**
 * The portal's CKAN action API, as a dataset export reads it: `package_show`. The base URL is the operator's, so no
 * host policy applies (HttpClient's rule for configured destinations); the API key goes with these requests only,
 * which are all to that host.
 */
export class CkanPortalClient {
  private readonly http = new HttpClient({ policy: null, connectTimeoutMs: 10_000 });

  constructor(
    private readonly settings: PortalSettings,
    private readonly retry: RetryOptions = PACKAGE_SHOW_RETRY,
  ) {}

  /** The dataset, or a JobFailure saying why there is none (not found, refused, the portal down or unreachable). */
  async packageShow(datasetId: string, signal: AbortSignal): Promise<PortalDataset> {
    const { baseUrl, apiKey } = this.settings;
    if (!baseUrl)
      throw new JobFailure({ type: 'export', class: 'PortalNotConfigured', message: 'dataset exports need the portal: CKAN_API_BASE_URL is not set' });
    const url = `${baseUrl.replace(/\/+$/, '')}/package_show?id=${encodeURIComponent(datasetId)}`;
    let answer;
    let tries = 1;
    try {
      answer = await this.http.getText(url, {
        headers: { accept: 'application/json', ...(apiKey ? { authorization: apiKey } : {}) },
        timeoutMs: TIMEOUT_MS,
        retry: this.retry,
        onRetry: () => void tries++,
        signal,
      });
    } catch (error) {
      if (signal.aborted || !(error instanceof HttpRequestError)) throw error;
      const tries = error.attempts > 1 ? ` after ${error.attempts} tries` : '';
      throw new JobFailure({ type: 'export', class: 'PortalUnreachable', message: `the portal did not answer package_show${tries}: ${error.message}` });
    }
    const outcome = readPackageShow(datasetId, answer.status, answer.body, tries);
    if ('error' in outcome) throw new JobFailure(outcome.error);
    return outcome.dataset;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
