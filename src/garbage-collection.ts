/**
 * Garbage collections on demand, for the memory limit (exporters/memory-guard.ts) and the request
 * bodies of the OTLP receivers: V8's `gc` function, exposed at run time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collectGarbage: ((options?: { type: 'minor' | 'major'; execution: 'sync' }) => void) | undefined;

function gc(options?: { type: 'minor' | 'major'; execution: 'sync' }): void {
  if (!collectGarbage) {
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as typeof collectGarbage;
  }
  collectGarbage!(options);
}

/** A full, synchronous collection. */
export function fullCollection(): void {
  gc();
}

/**
 * Request bodies arrive in socket chunks of up to 64 KiB, each a small young object holding
 * memory outside the V8 heap. Once read (joined into a body, or dropped from a refused request)
 * they are garbage, but V8 collects on the external memory they hold only after tens of MiB, and a
 * young collection comes only when the young generation fills with objects, which these tiny
 * ones hardly do: under a flood of large requests that garbage alone would outgrow the limit. So
 * every YOUNG_GC_BYTES of chunks read, a young collection (about a millisecond) frees them.
 */
const YOUNG_GC_BYTES = 4 * 1024 * 1024;
let chunkBytes = 0;

/** Counts request bytes read in socket chunks that are garbage now (see above). */
export function chunksRead(bytes: number): void {
  chunkBytes += bytes;
  if (chunkBytes < YOUNG_GC_BYTES) return;
  chunkBytes = 0;
  gc({ type: 'minor', execution: 'sync' });
}
