/**
 * Seeded random OTLP trace and logs requests for codec tests: every AnyValue type, nesting, events,
 * links, entity refs, 64-bit times past 2^53, unicode and empty strings; and random messages made
 * from the protobuf schema itself (every field of every message, oneof members set together).
 */
import protobuf from 'protobufjs';
import Long from 'long';

export type Signal = 'traces' | 'logs';

// ---- a seeded random source ----------------------------------------------------------------

export class Rnd {
  constructor(private s: number) {}
  next(): number {
    // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  u32(): number {
    return this.int(2 ** 32);
  }
}

export const KEYS = ['http.request.method', 'url.full', 'service.name', 'k', '', 'db.statement', 'élan', 'x'.repeat(64), 'y'.repeat(65)];

export function randomString(r: Rnd): string {
  switch (r.int(6)) {
    case 0:
      return '';
    case 1:
      return r.pick(KEYS); // repeats, as real batches have
    case 2:
      return Array.from({ length: r.int(100) }, () => String.fromCharCode(32 + r.int(95))).join('');
    case 3:
      return Array.from({ length: 1 + r.int(10) }, () => r.pick(['é', 'ü', '世界', '🚀', 'a', '\u0000', '\u007f', '\u0080', '\uffff'])).join('');
    case 4:
      return `user:${r.int(1000)}`;
    default:
      return 'x'.repeat(60 + r.int(8));
  }
}

export function randomBytes(r: Rnd, len = r.pick([0, 1, 8, 16, 17, 40])): Buffer {
  return Buffer.from(Array.from({ length: len }, () => r.int(256)));
}

/** A 64-bit value, often past 2^53; `unsigned` as the field's protobufjs type reads it. */
export function randomLong(r: Rnd, unsigned: boolean): Long {
  switch (r.int(5)) {
    case 0:
      return Long.fromNumber(r.int(1000), unsigned);
    case 1:
      return Long.fromString('1750000000123456789', unsigned);
    case 2:
      return new Long(-1, -1, unsigned); // 2^64 - 1, or -1
    case 3:
      return new Long(1, 0x200000, unsigned); // 2^53 + 1
    default:
      return new Long(r.u32() | 0, r.u32() | 0, unsigned);
  }
}

export function randomAnyValue(r: Rnd, depth: number): Record<string, unknown> {
  switch (r.int(depth > 2 ? 6 : 8)) {
    case 0:
      return { stringValue: randomString(r) };
    case 1:
      return { boolValue: r.chance(0.5) };
    case 2:
      return { intValue: randomLong(r, false) };
    case 3:
      return { doubleValue: r.pick([0, -0, 1.5, -1e300, Number.NaN, Number.POSITIVE_INFINITY, r.next()]) };
    case 4:
      return { bytesValue: randomBytes(r) };
    case 5:
      return {};
    case 6:
      return { arrayValue: { values: Array.from({ length: r.int(4) }, () => randomAnyValue(r, depth + 1)) } };
    default:
      return { kvlistValue: { values: randomAttributes(r, depth + 1, 4) } };
  }
}

export function randomAttributes(r: Rnd, depth = 0, max = 6): Record<string, unknown>[] {
  return Array.from({ length: r.int(max) }, () => (r.chance(0.1) ? { key: randomString(r) } : { key: randomString(r), value: randomAnyValue(r, depth) }));
}

/** Sets each field with probability `p` (proto3: a field at its default may or may not be sent). */
export function some(r: Rnd, fields: Record<string, () => unknown>, p = 0.7): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, make] of Object.entries(fields)) if (r.chance(p)) o[k] = make();
  return o;
}

export const enumValue = (r: Rnd, max: number) => (r.chance(0.9) ? r.int(max + 1) : r.pick([max + 7, 2 ** 31 - 1, -1]));

export function randomResource(r: Rnd) {
  return some(r, {
    attributes: () => randomAttributes(r),
    droppedAttributesCount: () => r.u32(),
    entityRefs: () =>
      Array.from({ length: r.int(3) }, () =>
        some(r, { schemaUrl: () => randomString(r), type: () => randomString(r), idKeys: () => [randomString(r), randomString(r)], descriptionKeys: () => [randomString(r)] }),
      ),
  });
}

export function randomScope(r: Rnd) {
  return some(r, { name: () => randomString(r), version: () => randomString(r), attributes: () => randomAttributes(r), droppedAttributesCount: () => r.u32() });
}

export function randomSpan(r: Rnd) {
  return some(r, {
    traceId: () => randomBytes(r, r.chance(0.8) ? 16 : r.int(20)),
    spanId: () => randomBytes(r, r.chance(0.8) ? 8 : r.int(20)),
    traceState: () => randomString(r),
    parentSpanId: () => randomBytes(r, r.pick([0, 8, 3])),
    flags: () => r.u32(),
    name: () => randomString(r),
    kind: () => enumValue(r, 5),
    startTimeUnixNano: () => randomLong(r, true),
    endTimeUnixNano: () => randomLong(r, true),
    attributes: () => randomAttributes(r),
    droppedAttributesCount: () => r.u32(),
    events: () =>
      Array.from({ length: r.int(3) }, () =>
        some(r, { timeUnixNano: () => randomLong(r, true), name: () => randomString(r), attributes: () => randomAttributes(r, 0, 3), droppedAttributesCount: () => r.u32() }),
      ),
    droppedEventsCount: () => r.u32(),
    links: () =>
      Array.from({ length: r.int(3) }, () =>
        some(r, {
          traceId: () => randomBytes(r, 16),
          spanId: () => randomBytes(r, 8),
          traceState: () => randomString(r),
          attributes: () => randomAttributes(r, 0, 3),
          droppedAttributesCount: () => r.u32(),
          flags: () => r.u32(),
        }),
      ),
    droppedLinksCount: () => r.u32(),
    status: () => some(r, { message: () => randomString(r), code: () => enumValue(r, 2) }),
  });
}

export function randomLogRecord(r: Rnd) {
  return some(r, {
    timeUnixNano: () => randomLong(r, true),
    observedTimeUnixNano: () => randomLong(r, true),
    severityNumber: () => enumValue(r, 24),
    severityText: () => randomString(r),
    body: () => randomAnyValue(r, 0),
    attributes: () => randomAttributes(r),
    droppedAttributesCount: () => r.u32(),
    flags: () => r.u32(),
    traceId: () => randomBytes(r, r.pick([0, 16, 5])),
    spanId: () => randomBytes(r, r.pick([0, 8, 5])),
    eventName: () => randomString(r),
  });
}

export function randomRequest(r: Rnd, signal: Signal): Record<string, unknown> {
  const list = <T>(n: number, make: () => T) => Array.from({ length: r.int(n) }, make);
  if (signal === 'traces') {
    return {
      resourceSpans: list(3, () => ({
        ...some(r, { resource: () => randomResource(r), schemaUrl: () => randomString(r) }),
        scopeSpans: list(3, () => ({ ...some(r, { scope: () => randomScope(r), schemaUrl: () => randomString(r) }), spans: list(5, () => randomSpan(r)) })),
      })),
    };
  }
  return {
    resourceLogs: list(3, () => ({
      ...some(r, { resource: () => randomResource(r), schemaUrl: () => randomString(r) }),
      scopeLogs: list(3, () => ({ ...some(r, { scope: () => randomScope(r), schemaUrl: () => randomString(r) }), logRecords: list(5, () => randomLogRecord(r)) })),
    })),
  };
}

export function randomScalar(r: Rnd, type: string): unknown {
  switch (type) {
    case 'string':
      return randomString(r);
    case 'bytes':
      return randomBytes(r);
    case 'bool':
      return r.chance(0.5);
    case 'uint32':
    case 'fixed32':
      return r.u32();
    case 'int32':
      return enumValue(r, 5);
    case 'int64':
      return randomLong(r, false);
    case 'fixed64':
      return randomLong(r, true);
    default:
      return r.next();
  }
}

/** Any message of the schema with random fields set, every field type included (schema-driven). */
export function randomMessage(r: Rnd, type: protobuf.Type, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    if (!r.chance(depth < 5 ? 0.6 : 0.2)) continue;
    const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    const scalar = f.resolvedType instanceof protobuf.Enum ? 'int32' : f.type;
    const make = () => (message ? randomMessage(r, message, depth + 1) : randomScalar(r, scalar));
    o[f.name] = f.repeated ? Array.from({ length: r.int(depth < 5 ? 4 : 2) }, make) : make();
  }
  return o;
}

