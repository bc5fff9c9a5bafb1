/**
 * Extraction as a per-record step of the parse stage: it reads a parsed line's fields and text,
 * sets its trace context, and marks the fields that gave it as taken, so that they are not
 * repeated as attributes (the README's Log files: the attributes are the *other* parsed fields). Nested
 * objects (`dd`, `mdc`, ...) are never taken: they hold more than the ids.
 */
import type { Config } from '../../config/load.js';
import type { Telemetry } from '../../metrics/telemetry.js';
import type { TraceContextExtractor } from './extract.js';
import { createTraceContextExtractor } from './invalid-ids.js';

/** What the enricher reads and sets on a parsed line (the parse stage's ParsedLine has these). */
export interface TraceContextTarget {
  readonly text: string;
  fields: Record<string, unknown> | null;
  taken: string[];
  /** The keys of `fields` the extractor reads (`isContextKey`), when the parser listed them. */
  contextKeys?: string[] | null;
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceFlags?: number;
}

export class TraceContextEnricher {
  readonly name = 'trace-context';

  constructor(private readonly extractor: TraceContextExtractor) {}

  /** Whether the extractor reads a top-level field of this name: parsers list such keys in `contextKeys`. */
  isContextKey(key: string): boolean {
    return this.extractor.isContextKey(key);
  }

  enrich(line: TraceContextTarget): void {
    const ctx = this.extractor.extract(line.fields ?? undefined, line.text, line.taken, line.contextKeys);
    if (!ctx) return;
    line.traceId = ctx.traceId;
    if (ctx.spanId) line.spanId = ctx.spanId;
    if (ctx.flags !== undefined) line.traceFlags = ctx.flags;
  }
}

/** The enricher for `logs.trace_context`, counting refused ids into `telemetry`. */
export function traceContextEnricher(config: Config, telemetry: Telemetry): TraceContextEnricher {
  return new TraceContextEnricher(createTraceContextExtractor(config.logs.trace_context, telemetry));
}
