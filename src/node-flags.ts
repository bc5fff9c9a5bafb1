/**
 * The V8 flags tracetail runs with, given on Node's command line because V8 reads them only when it
 * starts: the executable's `#!` line, `npm start`, and the image's NODE_OPTIONS carry them (a test
 * checks that they agree with this list); the demo and the benchmarks start the CLI with them.
 *
 * `--max-semi-space-size=8` (MiB): the young generation is held at 16 MiB instead of growing to
 * 32 MiB under load. A record lives from its line being read to its batch being queued, a few
 * milliseconds, so at 8 MiB a young collection still finds few of them alive: less resident
 * memory at about the same CPU. Much smaller and the records of a batch outlive their
 * collections, which costs CPU while a backlog is read.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
