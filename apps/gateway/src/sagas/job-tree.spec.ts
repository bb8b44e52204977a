import { toTree } from './job-tree.js';
import type { TreeRow } from './sagas.repository.js';

const row = (id: string, parent: string | null, depth: number): TreeRow => ({
  id,
  parent_id: parent,
  type: 'noop',
  state: 'succeeded',
  progress_current: 0,
  progress_total: 0,
  progress_message: '',
  error: null,
  depth,
});

describe('toTree', () => {
  it('nests rows under their parents, breadth first, keeping their order', () => {
    const tree = toTree([row('root', 'above', 0), row('a', 'root', 1), row('b', 'root', 1), row('a1', 'a', 2), row('b1', 'b', 2), row('a2', 'a', 2)]);
    expect(tree.id).toBe('root');
    expect(tree.children.map((child) => child.id)).toEqual(['a', 'b']);
    expect(tree.children[0].children.map((child) => child.id)).toEqual(['a1', 'a2']);
    expect(tree.children[1].children.map((child) => child.id)).toEqual(['b1']);
  });

  it('drops rows whose parent was cut off by the size cap', () => {
    const tree = toTree([row('root', null, 0), row('a', 'root', 1), row('x1', 'x', 2)]);
    expect(tree.children.map((child) => child.id)).toEqual(['a']);
    expect(tree.children[0].children).toEqual([]);
  });
});
