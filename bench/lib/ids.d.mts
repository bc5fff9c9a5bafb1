// Types of ids.mjs, for the TypeScript tests that send its spans.
/** The span number whose id `spanId` (8 bytes) is, or -1 for an id these functions did not make. */
export function spanNumber(spanId: Uint8Array | null | undefined): number;
