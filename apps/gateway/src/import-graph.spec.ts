import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The gateway's feature folders (`jobs`, `sagas`, `outbox`, …) depend on each other one way: no folder reaches
 * itself again through its imports. Type-only imports count too — a cycle of types is a cycle of concepts,
 * and the next runtime import along it makes a Nest module cycle.
 */
const root = dirname(fileURLToPath(import.meta.url));

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The feature folder a file of the gateway is in (`.` for app.module.ts and main.ts). */
const featureOf = (file: string): string => {
  const parts = relative(root, file).split(sep);
  return parts.length > 1 ? parts[0] : '.';
};

/** Feature folder → the feature folders its files import from. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources(root)) {
    const from = featureOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue; // packages and #shared
      const to = featureOf(resolve(dirname(file), fileName));
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** The strongly connected components of more than one folder (Tarjan): each is a cycle. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** Every folder `from` reaches through its imports. */
function reach(graph: Map<string, Set<string>>, from: string): Set<string> {
  const seen = new Set<string>();
  const walk = (node: string) => {
    for (const to of graph.get(node) ?? []) {
      if (seen.has(to)) continue;
      seen.add(to);
      walk(to);
    }
  };
  walk(from);
  return seen;
}

describe("the gateway's import graph", () => {
  const graph = folderGraph();

  it('finds the feature folders (the walk reads the sources)', () => {
    expect([...graph.keys()]).toEqual(expect.arrayContaining(['jobs', 'sagas', 'outbox', 'followups']));
    expect(graph.get('jobs')).toContain('sagas');
  });

  it('has no cycle between feature folders', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('runs one way: jobs → sagas → outbox, and followups above jobs', () => {
    expect(reach(graph, 'outbox')).not.toContain('sagas');
    expect(reach(graph, 'sagas')).not.toContain('jobs');
    expect(reach(graph, 'jobs')).not.toContain('followups');
  });

  it('would see a cycle', () => {
    const looped = new Map([...graph].map(([folder, edges]) => [folder, new Set(edges)]));
    looped.get('outbox')!.add('jobs');
    expect(cycles(looped)).toEqual([expect.arrayContaining(['jobs', 'outbox', 'sagas'])]);
  });
});
