import { Module } from '@nestjs/common';
import { HostPolicy } from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../../config/export.config.js';
import { RemoteFiles, type BucketEndpoint } from './remote-files.service.js';

/** Both halves of a key, or no key: the config validation refuses one without the other. */
const endpoint = (endpoint: string | undefined, region: string, accessKeyId?: string, secretAccessKey?: string): BucketEndpoint | undefined =>
  accessKeyId && secretAccessKey ? { endpoint, region, accessKeyId, secretAccessKey } : undefined;

/** The remote files of `export.convert` (http(s), s3://, gs://), configured from export-service's config. */
@Module({
  providers: [
    {
      provide: RemoteFiles,
      useFactory: (config: ExportConfig, policy: HostPolicy) =>
        new RemoteFiles({
          policy,
          s3: endpoint(
            config.GEOJOBS_REMOTE_S3_ENDPOINT,
            config.GEOJOBS_REMOTE_S3_REGION,
            config.GEOJOBS_REMOTE_S3_ACCESS_KEY_ID,
            config.GEOJOBS_REMOTE_S3_SECRET_ACCESS_KEY,
          ),
          // GCS's XML API takes any region name in the signature; `auto` is what Google documents
          gcs: endpoint(config.GEOJOBS_GCS_ENDPOINT, 'auto', config.GEOJOBS_GCS_HMAC_ACCESS_ID, config.GEOJOBS_GCS_HMAC_SECRET),
          storageBucket: config.GEOJOBS_STORAGE === 's3' ? config.GEOJOBS_S3_BUCKET : undefined,
          readTimeoutMs: config.GEOJOBS_EXPORT_READ_TIMEOUT_MS,
          downloadTimeoutMs: config.GEOJOBS_EXPORT_DOWNLOAD_TIMEOUT_MS,
        }),
      inject: [EXPORT_CONFIG, HostPolicy],
    },
  ],
  exports: [RemoteFiles],
})
export class RemoteModule {}
