import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS, metricReference } from '../../../src/metrics/catalogue.js';

const SRC = resolve(__dirname, '../../../src');

describe('metrics catalogue', () => {
  const specs = Object.values(METRICS);

  it('declares each tracetail_ metric once, named as Prometheus expects for its type', () => {
    const names = specs.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of specs) {
      expect(m.name).toMatch(/^tracetail_[a-z0-9_]+$/);
      if (m.type === 'counter') expect(m.name).toMatch(/_total$/);
      else expect(m.name).not.toMatch(/_total$/);
      expect(m.help.length).toBeGreaterThan(10);
    }
  });

  it('is where every tracetail_ metric of the code is named: no module spells one out', () => {
    const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && f !== join('metrics', 'catalogue.ts'));
    const spelled: string[] = [];
    for (const f of files) {
      // Comments may name metrics; code may not.
      const code = readFileSync(join(SRC, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      for (const m of code.matchAll(/['"`](tracetail_[a-z0-9_]+)['"`]/g)) spelled.push(`${f}: ${m[1]}`);
    }
    expect(spelled).toEqual([]);
  });

  it('makes the README table: a row per metric with its type', () => {
    const table = metricReference().split('\n');
    expect(table).toHaveLength(specs.length + 2);
    for (const m of specs) expect(table.some((row) => row.startsWith(`| \`${m.name}\` | ${m.type} |`)), m.name).toBe(true);
    expect(table.filter((row) => row.startsWith('| `tracetail_')).length).toBe(specs.length);
  });
});
