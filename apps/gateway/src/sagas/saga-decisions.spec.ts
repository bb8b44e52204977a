import {
  childrenOutcome,
  concludedOutcome,
  cutShortError,
  followupsOf,
  mergedOutcome,
  mergeInput,
  mergesWhenCutShort,
  nextStep,
  opensSaga,
  tallySettlements,
} from './saga-decisions.js';
import type { SagaCount } from './sagas.repository.js';

const saga = (fields: Partial<SagaCount> = {}): SagaCount => ({
  job_id: 'parent',
  policy: 'all-settled',
  total: 3,
  settled: 0,
  failed: 0,
  cancelled: 0,
  deadline_at: null,
  merge: null,
  merge_job_id: null,
  parent_state: 'running',
  parent_owner: 'portal',
  ...fields,
});
const failure = (jobId: string, message: string) => ({ jobId, type: 'noop', class: 'NoopFailure', message });

describe('tallySettlements', () => {
  it('counts settled subtasks per parent, with failures and cancellations, and skips merge jobs and top-level jobs', () => {
    const tallies = tallySettlements(
      [
        { id: 'a', parent_id: 'p', state: 'succeeded' },
        { id: 'b', parent_id: 'p', state: 'failed' },
        { id: 'c', parent_id: 'p', state: 'cancelled' },
        { id: 'd', parent_id: 'q', state: 'succeeded' },
        { id: 'merge', parent_id: 'q', state: 'succeeded' },
        { id: 'top', parent_id: null, state: 'failed' },
      ],
      new Set(['merge']),
    );
    expect(tallies).toEqual([
      { parentId: 'p', settled: 3, failed: 1, cancelled: 1 },
      { parentId: 'q', settled: 1, failed: 0, cancelled: 0 },
    ]);
  });
});

describe('nextStep', () => {
  it('waits while subtasks are out under all-settled, even after a failure', () => {
    expect(nextStep(saga({ settled: 1 }))).toBe('wait');
    expect(nextStep(saga({ settled: 2, failed: 2 }))).toBe('wait');
  });

  it('cuts a fail-fast saga short at its first failure while others are out', () => {
    expect(nextStep(saga({ policy: 'fail-fast', settled: 1, failed: 1 }))).toBe('cut-short');
    expect(nextStep(saga({ policy: 'fail-fast', settled: 2, cancelled: 1 }))).toBe('wait'); // a cancellation is no failure
  });

  it('concludes once every subtask settled, whatever the policy, when there is no merge job', () => {
    expect(nextStep(saga({ settled: 3 }))).toBe('conclude');
    expect(nextStep(saga({ settled: 3, failed: 1 }))).toBe('conclude');
    expect(nextStep(saga({ policy: 'fail-fast', settled: 3, failed: 1 }))).toBe('conclude'); // the last one failed
  });

  it('starts the merge job only when every subtask succeeded', () => {
    const merge = { type: 'noop', input: { service: 'geo' } };
    expect(nextStep(saga({ settled: 3, merge }))).toBe('merge');
    expect(nextStep(saga({ settled: 3, failed: 1, merge }))).toBe('conclude');
    expect(nextStep(saga({ settled: 3, cancelled: 1, merge }))).toBe('conclude');
  });

  it('starts a merge that runs always whatever the subtasks did, but only once', () => {
    const merge = { type: 'noop', input: {}, always: true };
    expect(nextStep(saga({ settled: 3, failed: 2, cancelled: 1, merge }))).toBe('merge');
    expect(nextStep(saga({ settled: 3, failed: 2, merge, merge_job_id: 'm' }))).toBe('conclude');
  });

  it('does nothing for a saga whose parent has already ended (cut short, cancelled, past its deadline)', () => {
    expect(nextStep(saga({ settled: 3, parent_state: 'failed' }))).toBe('wait');
    expect(nextStep(saga({ policy: 'fail-fast', settled: 1, failed: 1, parent_state: 'cancelled' }))).toBe('wait');
  });
});

describe('opensSaga', () => {
  it('opens the saga of a running job, and of a queued one whose job.started the applier has not committed yet', () => {
    expect(opensSaga({ state: 'running', is_saga: false })).toBe(true);
    expect(opensSaga({ state: 'queued', is_saga: false })).toBe(true);
  });

  it('adds nothing for a job that is a saga already (a fan-out delivered again) or that has ended', () => {
    expect(opensSaga({ state: 'running', is_saga: true })).toBe(false);
    for (const state of ['succeeded', 'failed', 'cancelled'] as const) expect(opensSaga({ state, is_saga: false })).toBe(false);
  });
});

describe('the outcome of a saga the coordinator merges', () => {
  it('all-settled, every subtask succeeded: succeeded, with the counts', () => {
    const outcome = concludedOutcome(saga({ settled: 3 }), [], null);
    expect(outcome).toEqual({
      id: 'parent',
      state: 'succeeded',
      result: { children: { total: 3, succeeded: 3, failed: 0, cancelled: 0 }, errors: [] },
      error: null,
    });
  });

  it('all-settled with failures: failed once all settled, every error listed', () => {
    const errors = [failure('a', 'boom'), failure('b', 'bang')];
    const outcome = concludedOutcome(saga({ settled: 3, failed: 2 }), errors, null);
    expect(outcome.state).toBe('failed');
    expect(outcome.error).toEqual({ type: 'saga', class: 'SubtasksFailed', message: '2 failed of 3 subtasks' });
    expect(outcome.result).toEqual({ children: { total: 3, succeeded: 1, failed: 2, cancelled: 0 }, errors });
  });

  it('names failed and cancelled subtasks both', () => {
    expect(concludedOutcome(saga({ settled: 3, failed: 1, cancelled: 1 }), [failure('a', 'x')], null).error?.message).toBe(
      '1 failed, 1 cancelled of 3 subtasks',
    );
  });

  it('fail-fast: failed with the first failure, the subtasks still out counted as cancelled', () => {
    const outcome = concludedOutcome(saga({ policy: 'fail-fast', settled: 1, failed: 1 }), [failure('a', 'boom')], 'fail-fast');
    expect(outcome.state).toBe('failed');
    expect(outcome.error).toEqual({ type: 'saga', class: 'SubtaskFailed', message: 'a subtask failed (fail-fast): boom' });
    expect(outcome.result.children).toEqual({ total: 3, succeeded: 0, failed: 1, cancelled: 2 });
  });

  it('cut short by its deadline: failed, saying how many had not reported by when', () => {
    const deadline = new Date('2026-01-02T03:04:05.000Z');
    const outcome = concludedOutcome(saga({ settled: 1, deadline_at: deadline }), [], 'deadline');
    expect(outcome.state).toBe('failed');
    expect(outcome.error).toEqual({ type: 'saga', class: 'SagaDeadlineExceeded', message: '2 of 3 subtasks had not reported by 2026-01-02T03:04:05.000Z' });
  });

  it('past its deadline with every subtask in: it is the merge step that is late', () => {
    expect(cutShortError('deadline', saga({ settled: 3 }), []).message).toBe('the merge step had not finished by its deadline');
  });

  it('cancelled: the error a merge that runs always is told', () => {
    expect(cutShortError('cancelled', saga(), [])).toEqual({ type: 'saga', class: 'JobCancelled', message: 'the job was cancelled' });
  });
});

describe('the outcome of a saga whose merge job settled', () => {
  it('ends as the merge did, with its result', () => {
    const outcome = mergedOutcome(saga({ settled: 3 }), { state: 'succeeded', result: { file: 'x.zip' }, error: null }, []);
    expect(outcome).toEqual({
      id: 'parent',
      state: 'succeeded',
      result: { children: { total: 3, succeeded: 3, failed: 0, cancelled: 0 }, errors: [], merge: { file: 'x.zip' } },
      error: null,
    });
  });

  it('fails when the merge failed or was cancelled', () => {
    const error = { type: 'noop', class: 'NoopFailure', message: 'zip broke' };
    expect(mergedOutcome(saga({ settled: 3 }), { state: 'failed', result: null, error }, []).error).toEqual({
      type: 'saga',
      class: 'MergeFailed',
      message: 'the merge step failed: zip broke',
    });
    expect(mergedOutcome(saga({ settled: 3 }), { state: 'cancelled', result: null, error: null }, []).error?.message).toBe('the merge step was cancelled');
  });

  it('a merge that runs always and succeeded still leaves the parent failed when subtasks failed', () => {
    const outcome = mergedOutcome(saga({ settled: 3, failed: 1 }), { state: 'succeeded', result: {}, error: null }, [failure('a', 'boom')]);
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.class).toBe('SubtasksFailed');
    expect(outcome.result.errors).toEqual([failure('a', 'boom')]);
  });

  it('a merge that decides: the parent succeeds with the merge, with its result, although subtasks failed', () => {
    const decides = saga({ settled: 3, failed: 1, merge: { type: 'export.dataset.merge', input: {}, always: true, decides: true } });
    const outcome = mergedOutcome(decides, { state: 'succeeded', result: { file: 'x.zip', failedResources: ['a'] }, error: null }, [failure('a', 'boom')]);
    expect(outcome).toEqual({
      id: 'parent',
      state: 'succeeded',
      result: { file: 'x.zip', failedResources: ['a'], children: { total: 3, succeeded: 2, failed: 1, cancelled: 0 }, errors: [failure('a', 'boom')] },
      error: null,
    });
    const failed = mergedOutcome(decides, { state: 'failed', result: null, error: { type: 'export', class: 'X', message: 'nothing made' } }, []);
    expect(failed).toMatchObject({ state: 'failed', error: { class: 'MergeFailed', message: 'the merge step failed: nothing made' } });
  });
});

describe('the merge that runs always, on a saga cut short', () => {
  it('starts once, and only when declared always', () => {
    expect(mergesWhenCutShort(saga({ merge: { type: 'noop', input: {}, always: true } }))).toBe(true);
    expect(mergesWhenCutShort(saga({ merge: { type: 'noop', input: {}, always: true }, merge_job_id: 'm' }))).toBe(false);
    expect(mergesWhenCutShort(saga({ merge: { type: 'noop', input: {} } }))).toBe(false);
    expect(mergesWhenCutShort(saga())).toBe(false);
  });

  it('is told the failures and why the saga was cut short', () => {
    const why = cutShortError('cancelled', saga(), []);
    const input = mergeInput(saga({ merge: { type: 'noop', input: { service: 'geo' }, always: true } }), [failure('a', 'boom')], why);
    expect(input).toEqual({
      service: 'geo',
      saga: { parentId: 'parent', subtasks: 3, errors: [failure('a', 'boom'), { jobId: 'parent', ...why }] },
    });
  });

  it('a merge after clean subtasks gets the summary without errors', () => {
    expect(mergeInput(saga({ merge: { type: 'noop', input: { service: 'geo' } } }), undefined, undefined)).toEqual({
      service: 'geo',
      saga: { parentId: 'parent', subtasks: 3 },
    });
  });
});

describe('followupsOf', () => {
  const followups = { onSuccess: [{ type: 'webhook' }, { type: 'analytics' }], onFailure: [{ type: 'webhook' }] };

  it('fires every onSuccess action of a job that succeeded, and only those', () => {
    expect(followupsOf({ id: 'j', state: 'succeeded', followups }, false)).toEqual([
      { key: 'followup.run', payload: { jobId: 'j', outcome: 'succeeded', index: 0 } },
      { key: 'followup.run', payload: { jobId: 'j', outcome: 'succeeded', index: 1 } },
    ]);
  });

  it('fires onFailure for a failed job', () => {
    expect(followupsOf({ id: 'j', state: 'failed', followups }, false)).toEqual([
      { key: 'followup.run', payload: { jobId: 'j', outcome: 'failed', index: 0 } },
    ]);
  });

  it('fires no action for a cancelled job, but the CKAN callback whatever the outcome', () => {
    expect(followupsOf({ id: 'j', state: 'cancelled', followups }, false)).toEqual([]);
    expect(followupsOf({ id: 'j', state: 'cancelled', followups }, true)).toEqual([{ key: 'followup.ckan-callback', payload: { jobId: 'j' } }]);
    expect(followupsOf({ id: 'j', state: 'failed', followups: null }, true)).toEqual([{ key: 'followup.ckan-callback', payload: { jobId: 'j' } }]);
  });
});

describe('childrenOutcome', () => {
  it('counts the subtasks not settled as cancelled (a saga cut short cancels them)', () => {
    expect(childrenOutcome(saga({ total: 5, settled: 2, failed: 1 }), 1)).toEqual({ total: 5, succeeded: 1, failed: 1, cancelled: 3 });
  });
});
