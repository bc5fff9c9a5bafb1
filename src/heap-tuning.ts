/**
 * V8 heap sizing for a small, steady footprint (SPEC.md §6: RSS within limits.memory_mib + 20%).
 * Imported by the entry point (src/cli.ts) before the rest of the program is even loaded.
 *
 * By default V8 grows the young generation to 2 x 16 MiB under a steady allocation rate and lets
 * the old generation grow to several times its live size before a full collection: with about
 * 45 MiB live, the heap reached 110 MiB and RSS 200 MiB, most of it garbage and headroom. Two
 * flags bound that, and both are read by V8 whenever it sizes the heap, so setting them from
 * inside the process works (measured; `--max-semi-space-size` does not, it is fixed at start-up):
 * - `--semi-space-growth-factor=1`: the young generation stays at its initial 2 x 1 MiB;
 * - `--heap-growing-percent=25`: after a full collection the old generation may grow by 25% of
 *   what survived before the next one (instead of up to 4x).
 * A flag given on the command line or in NODE_OPTIONS wins.
 */
import { setFlagsFromString } from 'node:v8';

const FLAGS = { 'semi-space-growth-factor': '1', 'heap-growing-percent': '25' } as const;

const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((a) => a.replace(/^--/, '').replace(/_/g, '-').split('=')[0]);
for (const [flag, value] of Object.entries(FLAGS)) {
  if (!given.includes(flag)) setFlagsFromString(`--${flag}=${value}`);
}
