import { containsPattern, jobFilterSql } from './job-filter.js';

describe('jobFilterSql', () => {
  it('lists top-level jobs when nothing is asked', () => {
    expect(jobFilterSql({})).toEqual({ where: 'parent_id IS NULL', params: [] });
  });

  it('combines state, type, owner and a time window, numbering the parameters in order', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-02-01T00:00:00Z');
    expect(jobFilterSql({ state: 'failed', type: 'geo.preview', owner: 'hdx', createdFrom: from, createdTo: to })).toEqual({
      where: 'state = $1 AND type = $2 AND owner = $3 AND created_at >= $4 AND created_at < $5 AND parent_id IS NULL',
      params: ['failed', 'geo.preview', 'hdx', from, to],
    });
  });

  it("lists a saga's subtasks given its id", () => {
    expect(jobFilterSql({ parentId: 'p' })).toEqual({ where: 'parent_id = $1::uuid', params: ['p'] });
  });

  it('searches the input text at every level, with LIKE wildcards taken literally', () => {
    expect(jobFilterSql({ q: ' 50%_off\\ ' })).toEqual({ where: 'input::text ILIKE $1', params: ['%50\\%\\_off\\\\%'] });
  });

  it('keeps to top-level jobs in a search when asked (a bulk retry)', () => {
    expect(jobFilterSql({ q: 'abc', topLevelOnly: true })).toEqual({ where: 'parent_id IS NULL AND input::text ILIKE $1', params: ['%abc%'] });
  });

  it('takes a uuid as a job id or a text of the input', () => {
    const id = '6F1C2D3E-0000-4000-8000-000000000001';
    expect(jobFilterSql({ state: 'failed', q: id })).toEqual({
      where: 'state = $1 AND (id = $3::uuid OR input::text ILIKE $2)',
      params: ['failed', `%${id}%`, id.toLowerCase()],
    });
  });
});

describe('containsPattern', () => {
  it('wraps plain text in %', () => expect(containsPattern('abc')).toBe('%abc%'));
});
