import { BOUNDARY_PROCESSOR, findProcessor, processorKey, processorProblems, PROCESSORS, PUBLIC_PROCESSORS } from './processors.manifest.js';

describe('the processor manifest', () => {
  it('names each processor version once, with one internal boundary processor', () => {
    const keys = PROCESSORS.map(processorKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(BOUNDARY_PROCESSOR.name).toBe('boundary');
    expect(PUBLIC_PROCESSORS.some((processor) => processor.internal)).toBe(false);
  });

  it('finds requestable processors by <name>.<version>, never the internal one', () => {
    expect(findProcessor('vector_clip.version_1')?.name).toBe('vector_clip');
    expect(findProcessor('boundary.version_1')).toBeUndefined();
    expect(findProcessor('vector_clip')).toBeUndefined();
  });

  it('names unknown and duplicate processors of a request, each once', () => {
    expect(processorProblems(['vector_clip.version_1', 'raster_clip.version_1'])).toEqual([]);
    expect(processorProblems(['vector_clip.version_1', 'vector_clip.version_1', 'vector_clip.version_1'])).toEqual([
      'duplicate processor vector_clip.version_1',
    ]);
    expect(processorProblems(['noexist.version_1'])[0]).toMatch(
      /^unknown processor noexist\.version_1 \(known: vector_clip\.version_1, raster_clip\.version_1\)$/,
    );
  });
});
