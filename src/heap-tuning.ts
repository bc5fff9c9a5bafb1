/**
 * V8 heap sizing for a steady footprint (SPEC.md §6: RSS within limits.memory_mib + 20%).
 * Imported by the entry point (src/cli.ts) before the rest of the program is loaded.
 *
 * By default V8 lets the old generation grow to several times what survived the last full
 * collection before it collects again: with about 45 MiB live, the heap reached 110 MiB and RSS
 * 200 MiB, most of it garbage. `--heap-growing-percent=25` lets it grow by 25% instead. V8 reads
 * it whenever it sizes the heap, so setting it from inside the process works. The young
 * generation keeps its default size: capping it (`--semi-space-growth-factor=1`) saved another
 * 35 MiB of RSS but nearly tripled the CPU spent per log line (records of a batch outlive young
 * collections and are promoted), a bad trade for a sidecar (measured with 500,000 JSON lines
 * through the CLI: 20 CPU-s at 163 MiB against 56 CPU-s at 127 MiB). A cap between the two,
 * `--max-semi-space-size=8` (MiB; V8 reads it only at start, so only from the command line or
 * NODE_OPTIONS), keeps the young generation at 16 MiB instead of 32: in the outage benchmark
 * (5,000 lines/s and 5,000 spans/s for 60 s) peak RSS 130-132 MiB instead of 142-150 for about
 * the same CPU (24-25 CPU-s against 20-24), but 500,000 lines read as fast as they come took
 * 17-20 CPU-s instead of 12-16 (`=4`: about twice the CPU). It is left to deployments that need
 * the memory more than the CPU.
 * A flag given on the command line or in NODE_OPTIONS wins.
 */
import { setFlagsFromString } from 'node:v8';

const FLAGS = { 'heap-growing-percent': '25' } as const;

const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((a) => a.replace(/^--/, '').replace(/_/g, '-').split('=')[0]);
for (const [flag, value] of Object.entries(FLAGS)) {
  if (!given.includes(flag)) setFlagsFromString(`--${flag}=${value}`);
}
