import type { JobState, JobView } from '../job-model/job.model.js';
import { checkAnswer, STARTING } from './check-answer.js';

const ID = '0f26ade5-ecc7-4f75-a034-545506c34a9b';

function job(state: JobState, changes: Partial<JobView> = {}): JobView {
  return {
    id: ID,
    type: 'export.convert',
    state,
    progress: { current: 0, total: 0, message: '' },
    input: { uri: 'gs://bucket/path/BACKUP.GDB' },
    result: null,
    error: null,
    parentId: null,
    children: null,
    idempotencyKey: null,
    followups: {},
    owner: 'sms',
    createdAt: '2026-12-02T10:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    expiresAt: null,
    ...changes,
  };
}

describe("checkAnswer: a job as SMS-Rio's GET /check/{id}", () => {
  it('queued → PENDING with no result, as Celery shows a task no worker took', () => {
    expect(checkAnswer(job('queued'))).toEqual({ status: 'PENDING', result: null, task_id: ID });
  });

  it('running → PROGRESS with the progress message, current and total', () => {
    const running = job('running', { progress: { current: 2, total: 6, message: 'Table CNESHIST: 40,000 of 120,000 rows' } });
    expect(checkAnswer(running)).toEqual({
      status: 'PROGRESS',
      result: { status: 'Table CNESHIST: 40,000 of 120,000 rows', current: 2, total: 6 },
      task_id: ID,
    });
    expect(checkAnswer(job('running'))).toEqual({ status: 'PROGRESS', result: { status: STARTING, current: 0, total: 0 }, task_id: ID });
  });

  it('succeeded → SUCCESS with {success: true, output}', () => {
    const done = job('succeeded', { result: { output: 'gs://bucket/path/BACKUP.zip', tables: 6 }, finishedAt: '2026-12-02T11:00:00.000Z' });
    expect(checkAnswer(done)).toEqual({
      status: 'SUCCESS',
      result: { success: true, output: 'gs://bucket/path/BACKUP.zip', tables: 6 },
      task_id: ID,
      date_done: '2026-12-02T11:00:00.000Z',
    });
  });

  it('a ZIP in geojobs’ storage is named by its storage URI', () => {
    const done = job('succeeded', { result: { file: 'convert/x/BACKUP.zip' } });
    expect(checkAnswer(done).result).toMatchObject({ success: true, output: 'storage://convert/x/BACKUP.zip' });
  });

  it('failed → FAILURE with {success: false, error} and the exc_* fields Celery stored', () => {
    const failed = job('failed', {
      error: { type: 'export', class: 'ConvertInputError', message: 'no table NOPE; the tables are: A, B' },
      finishedAt: '2026-12-02T11:00:00.000Z',
    });
    expect(checkAnswer(failed)).toEqual({
      status: 'FAILURE',
      result: {
        success: false,
        error: 'no table NOPE; the tables are: A, B',
        exc_type: 'ConvertInputError',
        exc_message: ['no table NOPE; the tables are: A, B'],
        exc_module: 'export',
      },
      task_id: ID,
      date_done: '2026-12-02T11:00:00.000Z',
    });
  });

  it('cancelled → REVOKED', () => {
    expect(checkAnswer(job('cancelled'))).toMatchObject({ status: 'REVOKED', result: { success: false, exc_type: 'TaskRevokedError' }, task_id: ID });
  });
});
