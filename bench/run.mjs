#!/usr/bin/env node
// With no argument, runs the whole-CLI suite (whole-cli.bench.mjs: the numbers a user compares
// sidecars by); with names, the bench/*.bench.mjs whose name contains one of them; with `all`,
// every bench/*.bench.mjs but the soak (15 minutes: only when named). One after the other, each in its own process so one benchmark's heap
// and JIT state do not colour the next.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const filters = args.length === 0 ? ['whole-cli'] : args.includes('all') ? [] : args;
/** Run only when asked for by name. */
const OPT_IN = ['soak.bench.mjs'];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => (filters.length === 0 ? !OPT_IN.includes(f) : filters.some((x) => f.includes(x))))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}; the benchmarks: ${readdirSync(dir).filter((f) => f.endsWith('.bench.mjs')).map((f) => f.replace('.bench.mjs', '')).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, file)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
