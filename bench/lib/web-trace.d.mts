// Types of web-trace.mjs, for the TypeScript tests that send its requests.
export const SPANS_PER_TRACE: number;

export interface TraceRequestTemplate {
  /** The encoded request with marker ids and times. */
  bytes: Buffer;
  spansPerRequest: number;
  /** A copy of the request holding spans first..first+n-1 (first a multiple of 5), sent at `sentMs`. */
  stamp(first: number, sentMs: number): Buffer;
}

export function traceRequestTemplate(spansPerRequest?: number): TraceRequestTemplate;
