import fc from 'fast-check';
import type { JobState } from '../job-model/job.model.js';
import { concludedOutcome, mergedOutcome, mergesWhenCutShort, nextStep, tallySettlements } from './saga-decisions.js';
import type { SagaCount, SagaPolicy } from './sagas.repository.js';

type Final = 'succeeded' | 'failed' | 'cancelled';

/**
 * The saga's rules by property, apart from the SQL: the counting (tallySettlements) and the next step (nextStep)
 * driven through any interleaving of duplicated and reordered completions, batched in any way. The one thing the
 * SQL adds is modelled as it is written: a job leaves queued/running once (the UPDATE's `WHERE state IN (…)`), so
 * only a job's first completion settles it. The counting itself, in PostgreSQL, has its own property test
 * (test/sagas/saga-counter.e2e-spec.ts).
 */

const settledJob = fc.record({
  id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'm1', 'm2'),
  parent_id: fc.constantFrom('p', 'q', null),
  state: fc.constantFrom<Final>('succeeded', 'failed', 'cancelled'),
});

describe('saga decisions, by property', () => {
  it('tallies every settled subtask once, in any order, and never a merge job or a top-level job', () => {
    fc.assert(
      fc.property(fc.uniqueArray(settledJob, { selector: (job) => job.id }), fc.subarray(['m1', 'm2']), (jobs, merges) => {
        const mergeIds = new Set(merges);
        const tallies = tallySettlements(jobs, mergeIds);
        const reversed = tallySettlements([...jobs].reverse(), mergeIds);
        expect(new Set(tallies.map((tally) => JSON.stringify(tally)))).toEqual(new Set(reversed.map((tally) => JSON.stringify(tally))));
        for (const parent of ['p', 'q']) {
          const counted = jobs.filter((job) => job.parent_id === parent && !mergeIds.has(job.id));
          const tally = tallies.find((entry) => entry.parentId === parent);
          expect(tally ?? { settled: 0, failed: 0, cancelled: 0 }).toMatchObject({
            settled: counted.length,
            failed: counted.filter((job) => job.state === 'failed').length,
            cancelled: counted.filter((job) => job.state === 'cancelled').length,
          });
        }
        expect(tallies.every((tally) => tally.parentId !== null)).toBe(true);
      }),
    );
  });

  it('any interleaving of duplicated, reordered completions gives one outcome and at most one merge', () => {
    const scenario = fc.integer({ min: 1, max: 8 }).chain((total) =>
      fc.record({
        total: fc.constant(total),
        policy: fc.constantFrom<SagaPolicy>('all-settled', 'fail-fast'),
        merge: fc.constantFrom('none', 'on-success', 'always'),
        // completions: each subtask at least once, some twice or three times, maybe with another outcome
        completions: fc
          .tuple(
            fc.tuple(...Array.from({ length: total }, (_, job) => fc.record({ job: fc.constant(job), succeeded: fc.boolean() }))),
            fc.array(fc.record({ job: fc.nat({ max: total - 1 }), succeeded: fc.boolean() }), { maxLength: 2 * total }),
          )
          .chain(([firsts, more]) => fc.shuffledSubarray([...firsts, ...more], { minLength: firsts.length + more.length })),
        cuts: fc.array(fc.boolean(), { minLength: 3 * total, maxLength: 3 * total }), // where one batch ends and the next begins
        mergeSucceeds: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }), // the merge job's completions
      }),
    );
    fc.assert(
      fc.property(scenario, ({ total, policy, merge, completions, cuts, mergeSucceeds }) => {
        const subtasks: JobState[] = Array.from({ length: total }, () => 'queued');
        const saga: SagaCount = {
          job_id: 'p',
          policy,
          total,
          settled: 0,
          failed: 0,
          cancelled: 0,
          deadline_at: null,
          merge: merge === 'none' ? null : { type: 'noop', input: {}, ...(merge === 'always' ? { always: true } : {}) },
          merge_job_id: null,
          parent_state: 'running',
          parent_owner: 'portal',
        };
        let mergesStarted = 0;
        const outcomes: string[] = [];
        const end = (state: 'succeeded' | 'failed') => {
          if (saga.parent_state !== 'running') return; // the SQL's guard: the parent is finished once
          saga.parent_state = state;
          outcomes.push(state);
        };
        /** What the coordinator does with jobs that just settled (by index): count, then the next step. */
        const settle = (settledNow: { index: number; state: Final }[]) => {
          const tallies = tallySettlements(
            settledNow.map(({ index, state }) => ({ id: `s${index}`, parent_id: 'p', state })),
            new Set(),
          );
          for (const tally of tallies)
            Object.assign(saga, { settled: saga.settled + tally.settled, failed: saga.failed + tally.failed, cancelled: saga.cancelled + tally.cancelled });
          if (tallies.length === 0) return;
          const step = nextStep(saga);
          if (step === 'merge') {
            mergesStarted++;
            saga.merge_job_id = 'm';
          } else if (step === 'conclude' || step === 'cut-short') {
            end(concludedOutcome(saga, [], step === 'cut-short' ? 'fail-fast' : null).state);
            if (step === 'cut-short') {
              const cancelled = subtasks.flatMap((state, index) => (state === 'queued' ? [{ index, state: 'cancelled' as const }] : []));
              cancelled.forEach(({ index }) => (subtasks[index] = 'cancelled'));
              if (mergesWhenCutShort(saga)) {
                mergesStarted++;
                saga.merge_job_id = 'm';
              }
              settle(cancelled);
            }
          }
        };

        let batch: { job: number; succeeded: boolean }[] = [];
        const flush = () => {
          const settledNow: { index: number; state: Final }[] = [];
          for (const { job, succeeded } of batch) {
            if (subtasks[job] !== 'queued') continue; // a job leaves queued/running once: duplicates and late ones change nothing
            subtasks[job] = succeeded ? 'succeeded' : 'failed';
            settledNow.push({ index: job, state: subtasks[job] });
          }
          batch = [];
          settle(settledNow);
        };
        completions.forEach((completion, index) => {
          batch.push(completion);
          if (cuts[index]) flush();
        });
        flush();

        let mergeState: JobState | null = saga.merge_job_id ? 'queued' : null;
        for (const succeeded of mergeSucceeds) {
          if (mergeState !== 'queued') break; // the merge job, too, settles once
          mergeState = succeeded ? 'succeeded' : 'failed';
          end(mergedOutcome(saga, { state: mergeState, result: {}, error: null }, []).state);
        }

        const clean = subtasks.every((state) => state === 'succeeded');
        expect(saga.settled).toBe(total);
        expect(mergesStarted).toBe(merge === 'always' || (merge === 'on-success' && clean) ? 1 : 0);
        expect(outcomes).toHaveLength(1);
        expect(outcomes[0]).toBe(clean && mergeState !== 'failed' ? 'succeeded' : 'failed');
      }),
    );
  });
});
