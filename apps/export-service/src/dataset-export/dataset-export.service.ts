import { mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ZipArchive, type EntryData } from 'archiver';
import type { Logger } from 'pino';
import {
  ArchiveRefusedError,
  EXPORT_FORMATS,
  fanOut,
  HostPolicy,
  HttpClient,
  JobFailure,
  listArchive,
  LOGGER,
  safeUnzip,
  STORAGE,
  StorageNotFoundError,
  type ArchiveLimits,
  type CkanResourceV1,
  type Envelope,
  type ExportDatasetMergeV1,
  type ExportDatasetV1,
  type ExportResourceV1,
  type JobContext,
  type JobOutcome,
  type JobResult,
  type Storage,
  xmlEntityRefusal,
} from '#shared';
import { archiveLimits } from '../config/archive-limits.js';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { StorageSink } from '../formats/index.js';
import { CkanPortalClient } from './ckan-portal.client.js';
import { decideOutcome, type ExportedResource, type FailedResource, type ResourceReport } from './dataset-outcome.js';
import { datasetReadme } from './dataset-readme.js';
import { safeName, uniqueNames } from './package-show.js';
import { convertGisFile } from './resource-conversion.js';
import { ResourceDownloader, ResourceDownloadError } from './resource-download.js';
import { resourceKind, type GisSource, type ResourceKind } from './resource-kind.js';
import {
  FAILED_FILE,
  FILES_FOLDER,
  MANIFEST_FILE,
  parseFailedManifest,
  parseManifest,
  type FailedResourceManifest,
  type ManifestFile,
  type ResourceManifest,
} from './resource-manifest.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** Progress of a conversion is reported at most this often: GDAL calls back far more. */
const PROGRESS_INTERVAL_MS = 1_000;
/** Files that are compressed already are stored in the bundle, not deflated again. */
const STORED_EXTENSIONS = /\.(zip|kmz|gz|tgz|bz2|xz|7z|png|jpe?g|gif|webp|pdf|xlsx|docx|pptx|mp4)$/i;

/** The storage folder of a dataset export's per-resource working files; the ZIP goes beside it. */
export const resourcesPrefix = (parentJobId: string): string => `exports/${parentJobId}/resources/`;
export const bundleKey = (parentJobId: string, name: string): string => `exports/${parentJobId}/${name}.zip`;

/**
 * `export.dataset`: a portal dataset's resources, one subtask each (`export.resource`), merged into a ZIP
 * (`export.dataset.merge`) — a saga whose merge runs whatever became of the subtasks and decides the job's outcome:
 * the job succeeds with the resources that made it and names the others (`failedResources`); it fails when none did.
 */
@Injectable()
export class DatasetExportService implements OnApplicationShutdown {
  private readonly portal: CkanPortalClient;
  private readonly http: HttpClient;
  private readonly downloader: ResourceDownloader;
  private readonly archiveLimits: ArchiveLimits;

  constructor(
    @Inject(EXPORT_CONFIG) private readonly config: ExportConfig,
    @Inject(HostPolicy) policy: HostPolicy,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const { CKAN_API_BASE_URL: baseUrl, CKAN_API_KEY: apiKey } = config;
    this.portal = new CkanPortalClient({ baseUrl, apiKey });
    this.http = new HttpClient({ policy, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const limits = {
      maxBytes: config.GEOJOBS_EXPORT_MAX_DOWNLOAD_BYTES,
      readTimeoutMs: config.GEOJOBS_EXPORT_READ_TIMEOUT_MS,
      totalTimeoutMs: config.GEOJOBS_EXPORT_DOWNLOAD_TIMEOUT_MS ?? config.GEOJOBS_EXPORT_DEADLINE_SECONDS * 1_000,
    };
    this.downloader = new ResourceDownloader(this.http, limits, baseUrl && apiKey ? { baseUrl, apiKey } : undefined);
    this.archiveLimits = archiveLimits(config);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.portal.close(), this.http.close()]);
  }

  /** `export.dataset`: the dataset from the portal, then one subtask per resource and the merge. Writes nothing itself. */
  async run(command: Envelope<ExportDatasetV1>, job: JobContext): Promise<JobOutcome> {
    const { jobId, datasetId, formats = [...EXPORT_FORMATS] } = command.payload;
    await job.progress(0, 1, `reading dataset ${datasetId} from the portal`);
    const dataset = await this.portal.packageShow(datasetId, job.signal);
    if (dataset.resources.length === 0) {
      throw new JobFailure({ type: 'export', class: 'NoResourceExported', message: `dataset "${dataset.name}" has no resources to export` });
    }
    const prefix = resourcesPrefix(jobId);
    const folders = uniqueNames(
      dataset.resources.map((resource) => resource.id),
      'resource',
    );
    return fanOut({
      subtasks: dataset.resources.map((resource, index) => ({
        type: 'export.resource',
        input: { datasetId, resource, formats, prefix: `${prefix}${folders[index]}/` },
      })),
      merge: {
        type: 'export.dataset.merge',
        input: { datasetId, title: dataset.title, name: safeName(dataset.name, safeName(datasetId, 'dataset')), formats, resources: dataset.resources, prefix },
        always: true,
        decides: true,
      },
      deadlineSeconds: this.config.GEOJOBS_EXPORT_DEADLINE_SECONDS,
    });
  }

  /**
   * `export.resource`: downloads one resource and leaves under its prefix its files (`files/`, a GIS one converted to
   * every format, any other copied as it is) and `manifest.json` for the merge. When it fails for good it leaves only
   * `failed.json` saying why, and the job fails with that error; cancelled, it leaves nothing.
   */
  async resource(command: Envelope<ExportResourceV1>, job: JobContext): Promise<JobResult> {
    const { jobId, resource, formats, prefix } = command.payload;
    try {
      return await this.withScratch((dir) => this.exportResource(jobId, resource, formats, prefix, dir, job));
    } catch (error) {
      await this.storage.deletePrefix(prefix);
      if (job.signal.aborted) throw error;
      const failure = asFailure(error);
      // a failure the broker will try again leaves nothing: the next try starts clean
      if (failure || job.lastAttempt) {
        const why = (failure ?? JobFailure.of('internal', error)).failure;
        await this.writeJson(`${prefix}${FAILED_FILE}`, { resourceId: resource.id, jobId, error: why } satisfies FailedResourceManifest);
      }
      throw failure ?? error;
    }
  }

  /**
   * `export.dataset.merge`: every resource subtask has settled. Builds `exports/<job>/<name>.zip` (README.txt, then a
   * folder per exported resource) streamed into storage, and removes the working files. The merge decides the job's
   * outcome (`decides`): its result becomes the job's (the coordinator adds the subtasks' tally), its failure the job's.
   */
  async merge(command: Envelope<ExportDatasetMergeV1>, job: JobContext): Promise<JobResult> {
    const { datasetId, title, formats, resources, prefix, saga } = command.payload;
    const name = command.payload.name ?? safeName(datasetId, 'dataset');
    const key = bundleKey(saga.parentId, name);
    // the folders run() gave the subtasks: the same names, made the same way from the same resources
    const folders = uniqueNames(
      resources.map((resource) => resource.id),
      'resource',
    );
    const reports = await Promise.all(resources.map((resource, index) => this.report(resource, `${prefix}${folders[index]}/`, folders[index])));
    // a merge delivered again after it had finished (its ack lost) finds the working files gone and its ZIP there
    const bundled = reports.every((report) => !report.manifest && !report.failed) ? await this.storage.stat(key) : undefined;
    const outcome = decideOutcome(reports, saga, bundled !== undefined);
    switch (outcome.kind) {
      case 'cut':
        this.logger.info({ jobId: saga.parentId, reason: outcome.reason }, 'dataset export cut short: removing its files');
        await this.storage.deletePrefix(prefix);
        return { datasetId, cleanedUp: true, reason: outcome.reason.message };
      case 'merged-before':
        return { file: key, bytes: bundled!.size, datasetId, name, formats, note: 'merged before: this is a repeated delivery of the merge' };
      case 'failed':
        await this.storage.deletePrefix(prefix);
        throw new JobFailure(outcome.error);
      case 'bundle': {
        let result: JobResult;
        try {
          result = await this.bundleResources(key, { datasetId, name, title, formats, prefix, parentId: saga.parentId }, outcome.exported, outcome.failed, job);
        } catch (error) {
          // nothing half-made stays: the ZIP goes when the bundle fails or is cancelled (the job then has no file), and
          // so do the working files — unless the broker will try the merge again, which needs them
          await this.storage.delete(key);
          if (error instanceof JobFailure || job.signal.aborted || job.lastAttempt) await this.storage.deletePrefix(prefix);
          throw error;
        }
        await this.storage.deletePrefix(prefix);
        return result;
      }
    }
  }

  /** The ZIP of the resources that made it, and the job's result naming it. */
  private async bundleResources(
    key: string,
    dataset: { datasetId: string; name: string; title?: string; formats: ExportDatasetMergeV1['formats']; prefix: string; parentId: string },
    exportedResources: ExportedResource[],
    failed: FailedResource[],
    job: JobContext,
  ): Promise<JobResult> {
    const { datasetId, name, title, formats, prefix, parentId } = dataset;
    await job.progress(0, 1, `bundling ${exportedResources.length} resources`);
    const zipFolders = uniqueNames(
      exportedResources.map(({ resource }) => resource.name || resource.id),
      'resource',
    );
    const exported = exportedResources.map((entry, index) => ({ ...entry, zipFolder: zipFolders[index] }));
    const readme = datasetReadme({ datasetId, name, title, jobId: parentId, exportedAt: new Date(), formats, exported, failed });
    const stored = await this.bundle(key, readme, exported, prefix, job.signal);
    return {
      file: key,
      bytes: stored.size,
      datasetId,
      name,
      formats,
      resources: exported.map(({ resource, manifest, zipFolder }) => ({
        id: resource.id,
        name: resource.name,
        folder: zipFolder,
        handling: manifest.handling,
        files: manifest.files.flatMap((file) => [file.path, ...(file.companions ?? [])].map((path) => `${zipFolder}/${path}`)),
        ...(manifest.features !== undefined ? { features: manifest.features } : {}),
      })),
      failedResources: failed.map(({ id, name: resourceName, error }) => ({ id, name: resourceName, error })),
    };
  }

  private async exportResource(
    jobId: string,
    resource: CkanResourceV1,
    formats: ExportResourceV1['formats'],
    prefix: string,
    dir: string,
    job: JobContext,
  ): Promise<JobResult> {
    const { signal } = job;
    await job.progress(0, 3, `downloading ${resource.name || resource.id}`);
    const downloadDir = join(dir, 'download');
    const outDir = join(dir, 'out');
    await Promise.all([mkdir(downloadDir), mkdir(outDir)]);
    const file = await this.downloader.download(resource.url, downloadDir, signal);
    const kind = await this.kindOf(resource, file.path, file.filename);
    let manifest: ResourceManifest;
    if (kind.kind === 'gis') {
      if (file.bytes === 0) throw new JobFailure({ type: 'export', class: 'EmptyFile', message: `${file.filename} is empty (0 bytes)` });
      const refusal = await this.kmlRefusal(kind.source, file.path, file.filename, join(dir, 'kmz'), signal);
      if (refusal) throw new JobFailure({ type: 'export', class: 'XmlEntityRefused', message: refusal });
      await job.progress(1, 3, `converting ${file.filename} (${kind.source}) to ${formats.join(', ')}`);
      const sink = new StorageSink(this.storage, `${prefix}${FILES_FOLDER}`, signal);
      let converted;
      try {
        let reported = 0;
        const onProgress = (format: string, layer: string, rows: number, features: number) => {
          if (Date.now() - reported < PROGRESS_INTERVAL_MS) return;
          reported = Date.now();
          // a progress report that cannot be sent is not worth stopping the conversion for
          void job
            .progress(1, 3, `converting ${layer} to ${format}: ${rows.toLocaleString('en-US')} of ${features.toLocaleString('en-US')} features`)
            .catch(() => undefined);
        };
        const options = { scratchDir: outDir, signal, shapefileMaxBytes: this.config.GEOJOBS_SHAPEFILE_MAX_BYTES, onProgress };
        converted = await convertGisFile(file.path, { gis: kind.source, folder: kind.folder }, formats, sink, options);
      } catch (error) {
        if (signal.aborted) throw error;
        const reason = (error as Error).message.replace(file.path, file.filename);
        throw new JobFailure({ type: 'export', class: 'ConversionFailed', message: `${file.filename} could not be converted as ${kind.source}: ${reason}` });
      }
      manifest = {
        resourceId: resource.id,
        jobId,
        handling: 'converted',
        source: { filename: file.filename, bytes: file.bytes, gis: kind.source },
        formats,
        files: converted.files,
        features: converted.features,
      };
    } else {
      await job.progress(2, 3, `storing ${file.filename} as it is`);
      await this.storage.upload(`${prefix}${FILES_FOLDER}${file.filename}`, file.path, { signal });
      const files: ManifestFile[] = [{ path: file.filename, bytes: file.bytes }];
      manifest = { resourceId: resource.id, jobId, handling: 'copied', source: { filename: file.filename, bytes: file.bytes }, formats, files };
    }
    // written last: a manifest means every file it names is there
    await this.writeJson(`${prefix}${MANIFEST_FILE}`, manifest);
    return {
      resourceId: resource.id,
      handling: manifest.handling,
      files: manifest.files.flatMap((made) => [made.path, ...(made.companions ?? [])]),
      ...(manifest.features !== undefined ? { features: manifest.features } : {}),
    };
  }

  /**
   * GIS or copy (resource-kind.ts), listing the entries of a file that is a ZIP. A ZIP must pass the archive rules
   * every export applies (archive-limits.ts): GDAL reads a zipped Shapefile or a KMZ in place, and a copied one goes to
   * the people who download the bundle, so an unsafe entry, a bomb or an unreadable directory fails the resource.
   */
  private async kindOf(resource: CkanResourceV1, path: string, filename: string): Promise<ResourceKind> {
    if (!(await isZipFile(path))) return resourceKind(resource.format, filename);
    try {
      return resourceKind(resource.format, filename, await listArchive(path, this.archiveLimits));
    } catch (error) {
      if (!(error instanceof ArchiveRefusedError)) throw error;
      throw new JobFailure({ type: 'export', class: 'ArchiveRefused', message: `${filename}: ${error.message}` });
    }
  }

  /**
   * Why a KML, or the KML files of a KMZ, must not be given to GDAL (XML entities: xml-prolog.ts), or null. A KMZ is
   * expanded for the look into `folder` (within the archive limits it has passed already).
   */
  private async kmlRefusal(source: GisSource, path: string, filename: string, folder: string, signal: AbortSignal): Promise<string | null> {
    if (source === 'kml') {
      const refusal = await xmlEntityRefusal(path);
      return refusal && `${filename} ${refusal}`;
    }
    if (source !== 'kmz') return null;
    try {
      await safeUnzip(path, folder, this.archiveLimits, signal);
    } catch (error) {
      // its directory passed listArchive; the bytes written are counted again here, in case the sizes it declares lie
      if (!(error instanceof ArchiveRefusedError)) throw error;
      throw new JobFailure({ type: 'export', class: 'ArchiveRefused', message: `${filename}: ${error.message}` });
    }
    for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.toLowerCase().endsWith('.kml')) continue;
      const refusal = await xmlEntityRefusal(join(entry.parentPath, entry.name));
      if (refusal) return `${filename}: ${relative(folder, join(entry.parentPath, entry.name))} ${refusal}`;
    }
    return null;
  }

  /** What the subtask of one resource left under `folderPrefix`. */
  private async report(resource: CkanResourceV1, folderPrefix: string, folder: string): Promise<ResourceReport> {
    const manifest = parseManifest((await this.readText(`${folderPrefix}${MANIFEST_FILE}`)) ?? '');
    const failed = manifest ? undefined : parseFailedManifest((await this.readText(`${folderPrefix}${FAILED_FILE}`)) ?? '');
    return { resource, folder, ...(manifest ? { manifest } : {}), ...(failed ? { failed } : {}) };
  }

  /**
   * The ZIP, streamed into storage as archiver makes it: README.txt, then each resource's files read from storage one
   * after the other into its folder. Memory stays flat whatever the sizes.
   */
  private async bundle(key: string, readme: string, exported: (ExportedResource & { zipFolder: string })[], prefix: string, signal: AbortSignal) {
    const archive = new ZipArchive({ zlib: { level: 6 } });
    const output = new PassThrough();
    archive.on('warning', (error: Error) => archive.emit('error', error));
    archive.on('error', (error: Error) => output.destroy(error));
    archive.pipe(output);
    const written = this.storage.write(key, output, { signal, contentType: 'application/zip' });
    const feeding = (async () => {
      archive.append(readme, { name: 'README.txt' });
      for (const { folder, manifest, zipFolder } of exported) {
        for (const path of manifest.files.flatMap((file) => [file.path, ...(file.companions ?? [])])) {
          signal.throwIfAborted();
          const body = await this.storage.read(`${prefix}${folder}/${FILES_FOLDER}${path}`, { signal });
          await appended(archive, body, `${zipFolder}/${path}`, STORED_EXTENSIONS.test(path));
        }
      }
      await archive.finalize();
    })();
    try {
      const [stored] = await Promise.all([written, feeding]);
      return stored;
    } catch (error) {
      archive.abort();
      output.destroy();
      await Promise.allSettled([written, feeding]);
      throw error;
    }
  }

  private async readText(key: string): Promise<string | undefined> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.storage.read(key)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      if (error instanceof StorageNotFoundError) return undefined;
      throw error;
    }
  }

  private async writeJson(key: string, value: object): Promise<void> {
    const body = new PassThrough();
    body.end(JSON.stringify(value));
    await this.storage.write(key, body, { contentType: 'application/json' });
  }

  private async withScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const root = this.config.GEOJOBS_EXPORT_SCRATCH_DIR ?? tmpdir();
    await mkdir(root, { recursive: true });
    const dir = await mkdtemp(join(root, 'geojobs-dataset-'));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** What a resource failure tells the user: a JobFailure as it is; a download error with its class and message. */
function asFailure(error: unknown): JobFailure | undefined {
  if (error instanceof JobFailure) return error;
  if (error instanceof ResourceDownloadError) return new JobFailure({ type: 'export', class: error.name, message: error.message });
  return undefined;
}

/** Appends one entry and resolves once archiver has taken it in, so the next is read only then. */
function appended(archive: ZipArchive, body: Readable, name: string, store: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const onEntry = (entry: EntryData) => {
      if (entry.name !== name) return;
      archive.off('entry', onEntry);
      archive.off('error', reject);
      resolve();
    };
    archive.on('entry', onEntry);
    archive.once('error', reject);
    body.once('error', reject);
    archive.append(body, { name, store });
  });
}

async function isZipFile(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.readUInt32LE(0) === 0x04034b50;
  } finally {
    await file.close();
  }
}
