import type { PartRow } from './packages.repository.js';
import { ccgStatus, jobGroupStatus, processorViews } from './ccg-views.js';

const part = (processor: string, fields: Partial<PartRow>): PartRow => ({
  id: `id-${processor}`,
  state: 'queued',
  progress_current: 0,
  progress_total: 0,
  progress_message: '',
  input: { processor },
  result: null,
  error: null,
  ...fields,
});

describe('ccgStatus', () => {
  it('maps job states to Celery states, a skipped part to SKIPPED', () => {
    expect(ccgStatus('queued', null)).toBe('PENDING');
    expect(ccgStatus('running', null)).toBe('EXECUTING');
    expect(ccgStatus('succeeded', { files: [] })).toBe('SUCCESS');
    expect(ccgStatus('succeeded', { skipped: 'running' })).toBe('SKIPPED');
    expect(ccgStatus('failed', null)).toBe('FAILURE');
    expect(ccgStatus('cancelled', null)).toBe('REVOKED');
  });
});

describe('jobGroupStatus', () => {
  const processors = ['vector_clip.version_1', 'raster_clip.version_1'];

  it('shows processors with no part yet as PENDING under the package job', () => {
    expect(jobGroupStatus({ id: 'job', state: 'running', processors }, [])).toEqual({
      job_group_status: 'PENDING',
      job_group_percent_complete: 0,
      job_group_processors: processors.map((name) => ({ job_id: 'job', processor_name: name, job_status: 'PENDING' })),
    });
  });

  it('gives a running part its percent and current step, a finished one its result, and counts settled parts', () => {
    const status = jobGroupStatus({ id: 'job', state: 'running', processors }, [
      part('vector_clip.version_1', { state: 'running', progress_current: 40, progress_total: 100, progress_message: 'clipping' }),
      part('raster_clip.version_1', { state: 'failed', error: { type: 'processor', class: 'ProcessorError', message: 'raster_clip.version_1: bad tiff' } }),
    ]);
    expect(status.job_group_percent_complete).toBe(50);
    expect(status.job_group_processors).toEqual([
      {
        job_id: 'id-vector_clip.version_1',
        processor_name: 'vector_clip.version_1',
        job_status: 'EXECUTING',
        job_progress: { percent_complete: 40, current_task: 'clipping' },
      },
      {
        job_id: 'id-raster_clip.version_1',
        processor_name: 'raster_clip.version_1',
        job_status: 'FAILURE',
        job_result: { failed: 'raster_clip.version_1: bad tiff' },
      },
    ]);
  });

  it('is COMPLETE once the package job is final', () => {
    const status = jobGroupStatus({ id: 'job', state: 'succeeded', processors: ['vector_clip.version_1'] }, [
      part('vector_clip.version_1', { state: 'succeeded', result: { skipped: 'exists', files: [] } }),
    ]);
    expect(status).toMatchObject({ job_group_status: 'COMPLETE', job_group_percent_complete: 100 });
    expect(status.job_group_processors[0].job_status).toBe('SKIPPED');
  });
});

describe('processorViews', () => {
  it('groups the requestable processors by name, in irv-autopkg ProcessorVersionMetadata shape', () => {
    const views = processorViews();
    expect(views.map((view) => view.name)).toEqual(['vector_clip', 'raster_clip']);
    expect(Object.keys(views[0].versions[0]).sort()).toEqual(
      [
        'name',
        'description',
        'version',
        'data_author',
        'data_title',
        'data_title_long',
        'data_summary',
        'data_citation',
        'data_license',
        'data_origin_url',
        'data_formats',
      ].sort(),
    );
    expect(views[0].versions[0].name).toBe('vector_clip.version_1');
  });
});
