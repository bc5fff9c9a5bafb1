/**
 * What the parse stage works with: the parser turns a record's text into a ParsedLine, the
 * trace-context enricher sets its ids, and `toLogRecord` builds the OTLP log record.
 */
import type Long from 'long';
import type { TraceContextTarget } from '../trace-context/enricher.js';

/** A record's text parsed per `logs.format`. */
export interface ParsedLine extends TraceContextTarget {
  /** The record text as read. */
  readonly text: string;
  /** Parsed fields (a JSON object, logfmt pairs, regex named groups); null for plain text. */
  fields: Record<string, unknown> | null;
  /** Field names that became the body, time, severity or trace context: not repeated as attributes. */
  taken: string[];
  /**
   * `taken` by position, for the first 31 keys of `fields` in their (for-in) order: bit p is set
   * when the p-th key gave the body, time or severity. Bit p of `contextPositions` is set when the
   * trace-context enricher may take the p-th key (all bits: any key). A key without either bit was
   * not taken, without looking through `taken`; keys past the 31st are looked for in `taken`.
   */
  takenPositions: number;
  contextPositions: number;
  /** The keys of `fields` the trace-context extractor reads; null: it looks at every field. */
  contextKeys: string[] | null;
  /** The message: the `msg`/`message` field when there is one, else the text. */
  body: string;
  /** Time from the line, ns since the epoch. */
  timeUnixNano?: Long;
  severityText?: string;
  severityNumber?: number;
  /** `format` was json, logfmt or regex and the text did not parse: shipped as text, counted. */
  parseError: boolean;
}

/** The bit of the `p`-th key in `takenPositions`/`contextPositions` (0 past the 31st key). */
export function positionBit(p: number): number {
  return p < 31 ? 1 << p : 0;
}

/**
 * Sets a parsed field: `__proto__` (in a log line a key like any other) is defined as an own
 * field, where an assignment would set the object's prototype and lose the field.
 */
export function setField(fields: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
  else fields[key] = value;
}

/** Attribute set on a record whose line was cut at `logs.max_line_bytes`. */
export const TRUNCATED_ATTRIBUTE = 'tracetail.truncated';
