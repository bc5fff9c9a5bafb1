/**
 * V8 heap sizing for a steady footprint (the README's Delivery promise: RSS within limits.memory_mib + 20%).
 * Imported by the entry point (src/cli.ts) before the rest of the program is loaded.
 *
 * By default V8 lets the old generation grow to several times what survived the last full
 * collection before it collects again: with about 45 MiB live, the heap reached 110 MiB and RSS
 * 200 MiB, most of it garbage. `--heap-growing-percent=25` lets it grow by 25% instead. V8 reads
 * it whenever it sizes the heap, so setting it from inside the process works. The young
 * generation's size is set at start instead (node-flags.ts: V8 reads it only then).
 * A flag given on the command line or in NODE_OPTIONS wins.
 */
import { setFlagsFromString } from 'node:v8';

const FLAGS = { 'heap-growing-percent': '25' } as const;

const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((a) => a.replace(/^--/, '').replace(/_/g, '-').split('=')[0]);
for (const [flag, value] of Object.entries(FLAGS)) {
  if (!given.includes(flag)) setFlagsFromString(`--${flag}=${value}`);
}
