import { ArchiveRefusedError, safeUnzip as unzip, type ArchiveLimits } from '#shared';
import { ConvertInputError } from '../table-source.js';

/** The shared safe unzip (libs/shared/src/archive), its refusals as a convert input's readable failure. */
export async function safeUnzip(archive: string, folder: string, limits: ArchiveLimits, signal?: AbortSignal): Promise<void> {
  try {
    await unzip(archive, folder, limits, signal);
  } catch (error) {
    throw error instanceof ArchiveRefusedError ? new ConvertInputError(error.message) : error;
  }
}
