import { Inject, Injectable } from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import type { JobView } from '../job-model/job.model.js';

const HOUR_MS = 3_600_000;

/**
 * A job as callers see it when its result is a file: the time the file expires (`expiresAt`, its job's end plus the
 * retention period, which the RetentionSweeper applies), and in the result a `downloadUrl` ready to hand to a user, as
 * Cadasta's exports gave: `GET /jobs/:id/result?token=<TmpToken>`, the token limited to that one GET and minted fresh
 * each time the job is read, so a link the portal just fetched is always good for GEOJOBS_DOWNLOAD_TOKEN_HOURS.
 */
@Injectable()
export class ResultLinks {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  present(view: JobView): JobView {
    if (view.state !== 'succeeded' || typeof view.result?.file !== 'string' || !view.finishedAt) return view;
    const expiresAt = new Date(Date.parse(view.finishedAt) + this.config.GEOJOBS_EXPORT_RETENTION_HOURS * HOUR_MS);
    const path = `/jobs/${view.id}/result`;
    const seconds = Math.max(1, Math.round(this.config.GEOJOBS_DOWNLOAD_TOKEN_HOURS * 3_600));
    const token = this.auth.linkToken(view.owner, path, seconds);
    const downloadUrl = `${this.config.publicUrl}${path}?token=${encodeURIComponent(token)}`;
    return { ...view, expiresAt: expiresAt.toISOString(), result: { ...view.result, downloadUrl } };
  }
}
