import { decideOutcome, noResourceExported, type ResourceReport } from './dataset-outcome.js';
import type { ResourceManifest } from './resource-manifest.js';

const PARENT = '00000000-0000-4000-8000-000000000000';
const resource = (id: string, name = id) => ({ id, name, url: `https://files.example.org/${id}`, format: '' });
const manifest = (resourceId: string): ResourceManifest => ({
  resourceId,
  jobId: `job-${resourceId}`,
  handling: 'copied',
  source: { filename: `${resourceId}.csv`, bytes: 10 },
  formats: ['csv'],
  files: [{ path: `${resourceId}.csv`, bytes: 10 }],
});
const report = (id: string, left: Partial<ResourceReport> = {}): ResourceReport => ({ resource: resource(id), folder: id, ...left });
const error = (jobId: string, message: string) => ({ jobId, type: 'export', class: 'DownloadFailed', message });

describe('decideOutcome: what the merge of a dataset export does', () => {
  it('bundles the resources that left a manifest and names each other one with the error its failed.json gives', () => {
    const failed = { resourceId: 'broken', jobId: 'job-broken', error: error('job-broken', 'files.example.org answered 404 Not Found') };
    const outcome = decideOutcome([report('roads', { manifest: manifest('roads') }), report('broken', { failed })], {
      parentId: PARENT,
      errors: [error('job-broken', 'files.example.org answered 404 Not Found')],
    });
    expect(outcome).toEqual({
      kind: 'bundle',
      exported: [{ resource: resource('roads'), folder: 'roads', manifest: manifest('roads') }],
      failed: [{ id: 'broken', name: 'broken', url: 'https://files.example.org/broken', error: 'files.example.org answered 404 Not Found' }],
    });
  });

  it('names a resource whose subtask left nothing with the errors no failed.json accounts for', () => {
    const outcome = decideOutcome([report('roads', { manifest: manifest('roads') }), report('lost')], {
      parentId: PARENT,
      errors: [error('job-lost', 'the job was cancelled')],
    });
    expect(outcome).toMatchObject({ kind: 'bundle', failed: [{ id: 'lost', error: 'its subtask ended without a report (the job was cancelled)' }] });
  });

  it('fails the job with every error when no resource made it', () => {
    const failed = (id: string, message: string) => ({ resourceId: id, jobId: `job-${id}`, error: error(`job-${id}`, message) });
    const outcome = decideOutcome(
      [report('a', { failed: failed('a', 'answered 404 Not Found') }), report('b', { failed: failed('b', 'refusing to download') })],
      {
        parentId: PARENT,
        errors: [],
      },
    );
    expect(outcome).toMatchObject({
      kind: 'failed',
      error: {
        type: 'export',
        class: 'NoResourceExported',
        message: "could not export any of the dataset's 2 resources: a: answered 404 Not Found; b: refusing to download",
      },
    });
  });

  it('only cleans up when the saga was cut short (an error of the parent itself: a cancel, the deadline)', () => {
    const outcome = decideOutcome([report('roads', { manifest: manifest('roads') })], {
      parentId: PARENT,
      errors: [{ jobId: PARENT, type: 'saga', class: 'SagaDeadlineExceeded', message: '1 of 1 subtasks had not reported by 2026-12-02T18:00:00.000Z' }],
    });
    expect(outcome).toEqual({
      kind: 'cut',
      reason: { type: 'saga', class: 'SagaDeadlineExceeded', message: '1 of 1 subtasks had not reported by 2026-12-02T18:00:00.000Z' },
    });
  });

  it('leaves a ZIP alone when a merge is delivered again after it had finished and removed the working files', () => {
    const saga = { parentId: PARENT, errors: [error('job-b', 'answered 404 Not Found')] };
    expect(decideOutcome([report('a'), report('b')], saga, true)).toEqual({ kind: 'merged-before' });
    expect(decideOutcome([report('a'), report('b')], saga, false)).toMatchObject({ kind: 'failed' });
    expect(decideOutcome([report('a', { manifest: manifest('a') }), report('b')], saga, true)).toMatchObject({ kind: 'bundle' });
  });

  it('words the error of a dataset of one resource', () => {
    expect(noResourceExported([{ id: 'a', name: 'Roads', url: '', error: 'gone' }]).message).toBe("could not export the dataset's resource: Roads: gone");
  });
});
