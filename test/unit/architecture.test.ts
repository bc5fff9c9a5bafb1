/**
 * The module graph of src: data flows one way (receivers hand batches on and know nothing of the
 * stages, the queue or the exporters after them) and no module imports itself through others.
 * Every import counts, type-only ones included: a type import is still a dependency of the design.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../src');

/** Relative imports and re-exports of every .ts module under src, as paths relative to src. */
function moduleGraph(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const specifier = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const deps = new Set<string>();
    for (const m of text.matchAll(specifier)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      deps.add(relative(SRC, resolve(SRC, dirname(file), spec.replace(/\.js$/, '.ts'))));
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** The strongly connected components with more than one module, or a module importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('module graph of src', () => {
  const graph = moduleGraph();

  it('is read: every relative import names a module that exists', () => {
    expect(graph.size).toBeGreaterThan(50);
    const missing = [...graph].flatMap(([from, deps]) => deps.filter((d) => !graph.has(d) && !d.endsWith('.json')).map((d) => `${from} -> ${d}`));
    expect(missing).toEqual([]);
  });

  it('receivers import nothing from the exporters, the storage or the processors', () => {
    const upward = [...graph]
      .filter(([from]) => from.startsWith('receivers/'))
      .flatMap(([from, deps]) => deps.filter((d) => /^(exporters|storage|processors)\//.test(d)).map((d) => `${from} -> ${d}`));
    expect(upward).toEqual([]);
  });

  it('has no import circle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a circle and an upward import when there is one (the checks can fail)', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['d.ts']],
      ['e.ts', ['a.ts']],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
  });
});
