/**
 * The OTLP LogRecord of a parsed line (the README's Log files): body, time, severity and trace context from the
 * ParsedLine; as attributes the parsed fields not taken (with their JSON types: integers as
 * intValue, other numbers as doubleValue, objects as kvlists, arrays as arrays), then
 * `log.file.path`, `log.file.name`, and `tracetail.truncated` for a record whose line was cut.
 */
import Long from 'long';
import { beginAttributes, encodeAttribute, endAttributes, writeAttribute, writeEncoded } from '../../otlp/attribute-writer.js';
import { decodeAttributes } from '../../otlp/request-decoder.js';
import type { AnyValue, KeyValue, LogRecord } from '../../otlp/types.js';
import type { LogFile, RawRecord } from '../../pipeline/batches.js';
import { positionBit, TRUNCATED_ATTRIBUTE, type ParsedLine } from './types.js';

/** A bigint of ns as a Long (the OTLP fixed64 times), without going through a decimal string. */
export function longOfNanos(ns: bigint): Long {
  return Long.fromBits(Number(ns & 0xffffffffn), Number((ns >> 32n) & 0xffffffffn), true);
}

const TRUNCATED = encodeAttribute(TRUNCATED_ATTRIBUTE, true);

// The file attributes of the last file seen, and the Long of the last observed time: a batch comes
// from one file at one time, so these are made once per batch, not per record.
let lastFile: LogFile | undefined;
let lastPath = '';
let lastName = '';
let fileAttributes: Uint8Array = new Uint8Array(0);
let lastObserved = -1n;
let lastObservedLong: Long = Long.UZERO;

function fileAttributesOf(file: LogFile): Uint8Array {
  if (file !== lastFile || lastPath !== file.path || lastName !== file.name) {
    lastFile = file;
    lastPath = file.path;
    lastName = file.name;
    fileAttributes = Buffer.concat([encodeAttribute('log.file.path', file.path), encodeAttribute('log.file.name', file.name)]);
  }
  return fileAttributes;
}

/**
 * A log record read from a file. Its attributes are written as their protobuf as the record is
 * made (attribute-writer.ts), without an object per attribute: the encoder copies those bytes.
 * `attributes` decodes them when asked for (metric rules, tests), once.
 */
class FileLogRecord implements LogRecord {
  private decoded: KeyValue[] | undefined;

  constructor(
    public timeUnixNano: Long,
    public observedTimeUnixNano: Long,
    public severityNumber: number,
    public severityText: string,
    public body: AnyValue,
    public encodedAttributes: Uint8Array | null,
    public droppedAttributesCount: number,
    public flags: number,
    public traceId: Uint8Array | null,
    public spanId: Uint8Array | null,
    readonly logFile: LogFile,
  ) {}

  get attributes(): KeyValue[] {
    const e = this.encodedAttributes;
    return (this.decoded ??= e ? decodeAttributes(Buffer.from(e.buffer, e.byteOffset, e.byteLength)) : []);
  }

  set attributes(attributes: KeyValue[]) {
    this.decoded = attributes;
    this.encodedAttributes = null;
  }
}

/**
 * `withAttributes` false: a record without attributes, for a sidecar where nothing reads them (it
 * neither exports nor keeps records, and no metric rule looks at them).
 */
export function toLogRecord(line: ParsedLine, raw: RawRecord, file: LogFile, observedUnixNano: bigint, withAttributes = true): LogRecord {
  const fileBytes = fileAttributesOf(file); // before beginAttributes(): it may write them
  beginAttributes();
  const fields = withAttributes ? line.fields : null;
  if (fields !== null) {
    const taken = line.taken;
    const nTaken = taken.length;
    const takenPositions = line.takenPositions;
    const contextPositions = line.contextPositions;
    let p = 0;
    for (const key in fields) {
      // By its position's bit when it has one: taken by the parser, or perhaps by the enricher.
      const bit = positionBit(p++);
      const skip = bit === 0 ? isTaken(taken, nTaken, key) : (takenPositions & bit) !== 0 || ((contextPositions & bit) !== 0 && isTaken(taken, nTaken, key));
      if (skip) continue;
      const value = fields[key];
      if (value === undefined) continue;
      writeAttribute(key, value);
    }
  }
  if (withAttributes) {
    writeEncoded(fileBytes);
    if (raw.truncated) writeEncoded(TRUNCATED);
  }
  if (observedUnixNano !== lastObserved) {
    lastObserved = observedUnixNano;
    lastObservedLong = longOfNanos(observedUnixNano);
  }
  return new FileLogRecord(
    line.timeUnixNano ?? Long.UZERO,
    lastObservedLong,
    line.severityNumber ?? 0,
    line.severityText ?? '',
    { stringValue: line.body },
    endAttributes(),
    0,
    line.traceFlags === undefined ? 0 : line.traceFlags & 0xff,
    line.traceId ?? null,
    line.spanId ?? null,
    file,
  );
}

function isTaken(taken: string[], n: number, key: string): boolean {
  for (let i = 0; i < n; i++) if (taken[i] === key) return true;
  return false;
}
