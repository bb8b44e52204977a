/** The least time between two progress reports of one processor part (each is an event the gateway writes). */
export const PROGRESS_EVERY_MS = 1_000;

/**
 * Whether a processor's progress is worth an event: the first, the last (100 %), and then at most one a second.
 * A batch of 50 packages runs hundreds of parts; every report is a row update in the jobs table, and unthrottled
 * reports of one job contend for its row there.
 */
export function shouldReport(lastReportAt: number | undefined, now: number, percent: number): boolean {
  return lastReportAt === undefined || percent >= 100 || now - lastReportAt >= PROGRESS_EVERY_MS;
}
