import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { HostPolicy, type Broker, type Envelope, type GeoPreviewV1, type JobErrorV1, type JobReporter } from '#shared';
import type { GeoConfig } from '../config/geo.config.js';
import { DescribeService, type LayerDescription } from './describe.service.js';
import { DownloadService } from './download.service.js';
import { FormatError, GeopreviewError } from './geopreview.errors.js';
import { ImportService } from './import.service.js';
import { layerTableName } from './layer-name.js';
import { NotifyService, type PreviewOutcome } from './notify.service.js';
import { checkKind, SourceService, type SourceLayer } from './source.service.js';
import { UnpackService } from './unpack.service.js';

const STEPS = ['downloading', 'unpacking', 'opening', 'importing', 'describing'] as const;

export interface ImportedLayer extends LayerDescription {
  resourceId: string;
  datasetId: string;
  /** The layer's key in the upload: what a command's `layer` selects. */
  sourceLayer: string;
  droppedFeatures: number;
  recoveries: string[];
}

/**
 * download → unpack → open → import → clean → describe → notify, in a scratch folder removed whatever happens. Each layer
 * of the upload is one unit of work (`importLayer`): a command naming a `layer` imports that one alone, which is
 * how a saga will fan a multi-layer upload out; without one, every layer is imported here in turn.
 */
export class GeopreviewService {
  private readonly downloads: DownloadService;
  private readonly unpack: UnpackService;
  private readonly sources = new SourceService();
  private readonly imports: ImportService;
  private readonly descriptions: DescribeService;
  private readonly notifier: NotifyService;

  constructor(
    private readonly config: GeoConfig,
    database: DataSource,
    private readonly broker: Broker,
    private readonly logger: Logger,
  ) {
    const portal = config.CKAN_API_BASE_URL && config.CKAN_API_KEY ? { baseUrl: config.CKAN_API_BASE_URL, apiKey: config.CKAN_API_KEY } : undefined;
    const policy = new HostPolicy(config.GEOJOBS_ALLOWED_HOSTS);
    this.notifier = new NotifyService(
      config,
      policy,
      { attempts: config.GEOJOBS_GEO_CALLBACK_ATTEMPTS, timeoutMs: config.GEOJOBS_GEO_CALLBACK_TIMEOUT_MS, retryBaseMs: config.GEOJOBS_GEO_CALLBACK_RETRY_BASE_MS },
      logger.child({ component: 'notify' }),
    );
    this.downloads = new DownloadService(
      policy,
      {
        maxBytes: config.GEOJOBS_GEO_MAX_DOWNLOAD_BYTES,
        connectTimeoutMs: config.GEOJOBS_GEO_CONNECT_TIMEOUT_MS,
        readTimeoutMs: config.GEOJOBS_GEO_READ_TIMEOUT_MS,
        totalTimeoutMs: config.GEOJOBS_GEO_DOWNLOAD_TIMEOUT_MS,
      },
      portal,
    );
    this.unpack = new UnpackService({
      maxUnpackedBytes: config.GEOJOBS_GEO_MAX_UNPACKED_BYTES,
      maxRatio: config.GEOJOBS_GEO_MAX_UNPACK_RATIO,
      maxEntries: config.GEOJOBS_GEO_MAX_ARCHIVE_ENTRIES,
    });
    this.imports = new ImportService(config.GEOJOBS_GEO_DATABASE_URL, database, logger);
    this.descriptions = new DescribeService(database);
  }

  async run(command: Envelope<GeoPreviewV1>, reporter: JobReporter): Promise<void> {
    const { payload } = command;
    await reporter.started(command);
    const base = this.config.GEOJOBS_GEO_SCRATCH_DIR ?? tmpdir();
    await mkdir(base, { recursive: true });
    const scratch = await mkdtemp(join(base, 'geopreview-'));
    let outcome: PreviewOutcome;
    try {
      outcome = { result: await this.process(command, reporter, scratch) };
    } catch (error) {
      this.logger.warn({ err: error, resourceId: payload.resourceId }, 'geopreview failed');
      outcome = { error: toJobError(error) };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    // Notify: the callbacks first (bounded retries), so the job ends once the portal has been told
    await this.notifier.notify(command, outcome);
    if ('error' in outcome) await reporter.failed(command, outcome.error);
    else await reporter.succeeded(command, outcome.result);
  }

  private async process(command: Envelope<GeoPreviewV1>, reporter: JobReporter, scratch: string): Promise<Record<string, unknown>> {
    const { payload } = command;
    const step = (index: number, detail = '') => reporter.progress(command, index, STEPS.length, `${STEPS[index - 1]}${detail}`);
    await step(1);
    const downloadFolder = join(scratch, 'download');
    await mkdir(downloadFolder);
    const downloaded = await this.downloads.download(payload.url, downloadFolder);

    await step(2);
    const unpacked = join(scratch, 'unpacked');
    const { kind } = await checkKind(downloaded.path, payload.format);
    let files = [downloaded.path];
    let root = downloadFolder;
    if (kind === 'zip') {
      await this.unpack.unzip(downloaded.path, unpacked);
      files = await this.unpack.findLayerFiles(unpacked);
      root = unpacked;
      if (files.length === 0) throw new FormatError('the archive holds no layer file (.shp, .geojson, .kml, .gpkg, .gdb, .csv)');
    }

    await step(3);
    const imported: ImportedLayer[] = [];
    const declared = kind === 'zip' ? undefined : payload.format;
    const all = await this.sources.openAll(files, root, declared);
    try {
      const selected = payload.layer === undefined ? all : all.filter((layer) => layer.key === payload.layer || layer.name === payload.layer);
      if (selected.length === 0) {
        throw new FormatError(
          payload.layer === undefined ? 'the file holds no layer' : `no layer "${payload.layer}" in the file; it holds: ${all.map((layer) => layer.key).join(', ')}`,
        );
      }
      for (const [index, layer] of selected.entries()) {
        await step(4, selected.length > 1 ? ` layer ${index + 1} of ${selected.length}: ${layer.key}` : '');
        imported.push(await this.importLayer(payload, layer, all.length > 1));
      }
    } finally {
      SourceService.closeAll(all);
    }
    await step(5);
    for (const layer of imported) await this.announce(command, layer);
    return imported.length === 1 ? { ...imported[0] } : { layerId: imported[0].layerId, layers: imported };
  }

  /** `geo.layer.imported`, for whoever serves layers (events need no subscriber: see Broker.publishEnvelope). */
  private async announce(command: Envelope<GeoPreviewV1>, layer: ImportedLayer): Promise<void> {
    const { payload } = command;
    await this.broker.publishEvent(
      'geo.layer.imported',
      { jobId: payload.jobId, resourceId: payload.resourceId, layerId: layer.layerId, description: { ...layer } },
      { correlationId: command.correlationId, causationId: command.id },
    );
  }

  /** One layer: import, clean, describe. */
  async importLayer(payload: GeoPreviewV1, layer: SourceLayer, multiLayer: boolean): Promise<ImportedLayer> {
    const table = layerTableName(payload.resourceId, multiLayer ? layer.key : undefined);
    const { droppedFeatures, recoveries } = await this.imports.importLayer(layer, table);
    const description = await this.descriptions.describe(table);
    return { ...description, resourceId: payload.resourceId, datasetId: payload.datasetId, sourceLayer: layer.key, droppedFeatures, recoveries };
  }
}

/** The portal's `{error_type, error_class, message}`; anything unexpected is an `internal` error. */
export function toJobError(error: unknown): JobErrorV1 {
  if (error instanceof GeopreviewError) return { type: error.type, class: error.name, message: error.message };
  const unexpected = error instanceof Error ? error : new Error(String(error));
  return { type: 'internal', class: unexpected.name, message: unexpected.message };
}
