/**
 * The hand-written trace and logs request decoders against protobufjs's reflection decoder, the
 * model's reference: random requests (every AnyValue type, nesting, events, links, entity refs,
 * 64-bit times, unknown fields, fields out of order and repeated) must decode to strictly equal
 * objects; malformed bodies must be refused with a DecodeError, never crash or hang.
 */
import protobuf from 'protobufjs';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { decodeRequest, requestType } from '../../../src/otlp/codec.js';
import { decodeLogsRequest, decodeTraceRequest } from '../../../src/otlp/request-decoder.js';
import { Rnd, randomBytes, randomLong, randomMessage, randomRequest, randomScalar, type Signal } from '../../helpers/otlp-random.js';

const decoders: Record<Signal, (body: Buffer) => unknown> = { traces: decodeTraceRequest, logs: decodeLogsRequest };


// ---- an encoder that does what protobufjs's does not: shuffles, repeats, adds unknown fields ---

interface Mess {
  /** Write fields in a random order. */
  shuffle: boolean;
  /** Chance of writing a scalar or message field twice (a random value, then the real one). */
  repeat: number;
  /** Chance of an unknown field before each field. */
  unknown: number;
}

const WIRE: Record<string, number> = { string: 2, bytes: 2, bool: 0, uint32: 0, int32: 0, int64: 0, fixed32: 5, fixed64: 1, double: 1 };

function writeScalar(w: protobuf.Writer, type: string, v: unknown): void {
  switch (type) {
    case 'string':
      w.string(v as string);
      break;
    case 'bytes':
      w.bytes(v as Uint8Array);
      break;
    case 'bool':
      w.bool(v as boolean);
      break;
    case 'uint32':
      w.uint32(v as number);
      break;
    case 'int32':
      w.int32(v as number);
      break;
    case 'int64':
      w.int64(v as Long);
      break;
    case 'fixed32':
      w.fixed32(v as number);
      break;
    case 'fixed64':
      w.fixed64(v as Long);
      break;
    case 'double':
      w.double(v as number);
      break;
    default:
      throw new Error(`no writer for ${type}`);
  }
}

function writeUnknown(w: protobuf.Writer, r: Rnd, used: Set<number>, depth = 0): void {
  let field: number;
  do field = r.pick([17, 18, 31, 40, 99, 1000, 2 ** 29 - 1, 1 + r.int(30)]);
  while (used.has(field));
  const wire = r.pick(depth < 2 ? [0, 1, 2, 5, 3] : [0, 1, 2, 5]);
  w.uint32(field * 8 + wire);
  if (wire === 0) w.uint64(randomLong(r, true));
  else if (wire === 1) w.fixed64(randomLong(r, true));
  else if (wire === 2) w.bytes(randomBytes(r, r.int(12)));
  else if (wire === 5) w.fixed32(r.u32());
  else {
    for (let i = r.int(3); i > 0; i--) writeUnknown(w, r, new Set(), depth + 1);
    w.uint32(field * 8 + 4);
  }
}

function writeMessage(w: protobuf.Writer, type: protobuf.Type, obj: Record<string, unknown>, r: Rnd, mess: Mess): void {
  const fields = [...type.fieldsArray];
  if (mess.shuffle) fields.sort(() => r.next() - 0.5);
  const used = new Set(fields.map((f) => f.id));
  for (const f of fields) {
    const v = obj[f.name];
    if (v === undefined) continue;
    const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    const scalar = f.resolvedType instanceof protobuf.Enum ? 'int32' : f.type;
    const writeOne = (x: unknown) => {
      if (r.chance(mess.unknown)) writeUnknown(w, r, used);
      if (message) {
        w.uint32(f.id * 8 + 2).fork();
        writeMessage(w, message, x as Record<string, unknown>, r, mess);
        w.ldelim();
      } else {
        w.uint32(f.id * 8 + WIRE[scalar]);
        writeScalar(w, scalar, x);
      }
    };
    if (f.repeated) {
      for (const x of v as unknown[]) writeOne(x);
    } else {
      if (r.chance(mess.repeat)) writeOne(message ? {} : randomScalar(r, scalar));
      writeOne(v);
    }
  }
  if (r.chance(mess.unknown)) writeUnknown(w, r, used);
}

function encode(signal: Signal, obj: Record<string, unknown>, r: Rnd, mess: Mess): Buffer {
  const w = protobuf.Writer.create();
  writeMessage(w, requestType[signal], obj, r, mess);
  return Buffer.from(w.finish());
}

/** protobufjs's own decoder, untouched: the reference. */
function reference(signal: Signal, body: Buffer): unknown {
  return requestType[signal].decode(body);
}

function decodeOrError(decode: () => unknown): { value?: unknown; error?: unknown } {
  try {
    return { value: decode() };
  } catch (error) {
    return { error };
  }
}

const CLEAN: Mess = { shuffle: false, repeat: 0, unknown: 0 };
const MESSY: Mess = { shuffle: true, repeat: 0.15, unknown: 0.1 };

describe.each(['traces', 'logs'] as const)('%s request decoder', (signal) => {
  const decode = decoders[signal];

  it('decodes random requests exactly as protobufjs does', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = new Rnd(seed);
      const body = encode(signal, randomRequest(r, signal), r, seed % 3 === 0 ? CLEAN : MESSY);
      const mine = decode(body);
      expect(mine, `seed ${seed}`).toStrictEqual(reference(signal, body));
      expect(mine).toBeInstanceOf(protobuf.Message);
      // the codec takes this decoder for protobuf bodies of this signal
      expect(decodeRequest(signal, body, 'protobuf')).toStrictEqual(mine);
    }
  });

  it('decodes every field the schema has (random messages made from the schema itself)', () => {
    for (let seed = 500; seed < 700; seed++) {
      const r = new Rnd(seed);
      const body = encode(signal, randomMessage(r, requestType[signal]), r, seed % 2 === 0 ? CLEAN : MESSY);
      expect(decode(body), `seed ${seed}`).toStrictEqual(reference(signal, body));
    }
  });

  it('decodes what protobufjs encodes (canonical order, defaults left out)', () => {
    for (let seed = 1000; seed < 1100; seed++) {
      const r = new Rnd(seed);
      const body = Buffer.from(requestType[signal].encode(requestType[signal].fromObject(randomRequest(r, signal))).finish());
      expect(decode(body), `seed ${seed}`).toStrictEqual(reference(signal, body));
    }
  });

  it('decodes empty requests and empty messages', () => {
    const group = signal === 'traces' ? 'resourceSpans' : 'resourceLogs';
    const inner = signal === 'traces' ? 'scopeSpans' : 'scopeLogs';
    const items = signal === 'traces' ? 'spans' : 'logRecords';
    for (const obj of [{}, { [group]: [{}] }, { [group]: [{ resource: {}, [inner]: [{ scope: {}, [items]: [{}] }] }] }]) {
      const body = encode(signal, obj, new Rnd(1), CLEAN);
      expect(decode(body)).toStrictEqual(reference(signal, body));
    }
    expect(decode(Buffer.alloc(0))).toStrictEqual(reference(signal, Buffer.alloc(0)));
  });

  it('refuses a request cut at any byte, or takes it exactly as protobufjs does', () => {
    let body: Buffer = Buffer.alloc(0);
    for (let seed = 7; body.length < 400 || body.length > 3000; seed++) {
      const r = new Rnd(seed);
      body = encode(signal, randomRequest(r, signal), r, MESSY);
    }
    for (let cut = 0; cut < body.length; cut++) {
      const part = Buffer.from(body.subarray(0, cut));
      const mine = decodeOrError(() => decode(part));
      const ref = decodeOrError(() => reference(signal, part));
      if (mine.error) expect(mine.error, `cut at ${cut}`).toBeInstanceOf(DecodeError);
      expect(mine.error === undefined, `cut at ${cut}: ${String(mine.error ?? ref.error)}`).toBe(ref.error === undefined);
      if (!mine.error) expect(mine.value, `cut at ${cut}`).toStrictEqual(ref.value);
    }
  });

  it('survives corrupted bytes: a DecodeError or the same result as protobufjs', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = new Rnd(seed);
      const body = encode(signal, randomRequest(r, signal), r, MESSY);
      if (body.length === 0) continue;
      for (let i = 1 + r.int(4); i > 0; i--) body[r.int(body.length)] = r.pick([0, 0x80, 0xff, 0x07, 0x0f, r.int(256)]);
      const mine = decodeOrError(() => decode(body));
      if (mine.error) {
        expect(mine.error, `seed ${seed}`).toBeInstanceOf(DecodeError);
        continue;
      }
      const ref = decodeOrError(() => reference(signal, body));
      if (!ref.error) expect(mine.value, `seed ${seed}`).toStrictEqual(ref.value);
    }
  });
});

describe('malformed trace requests', () => {
  const refuses = (bytes: number[], reason: RegExp) => {
    expect(() => decodeTraceRequest(Buffer.from(bytes))).toThrow(DecodeError);
    expect(() => decodeTraceRequest(Buffer.from(bytes))).toThrow(reason);
  };

  it('says why it refuses a body', () => {
    refuses([0x0a, 0x05, 0x12, 0x00], /invalid protobuf: length 5 at byte 1 runs past the end/);
    refuses([0x0a, 0x02, 0x12, 0x05], /length 5 at byte 3 runs past the end of its message \(byte 4\)/);
    refuses([0x16], /invalid wire type 6/);
    refuses([0x17], /invalid wire type 7/);
    refuses([0x14], /end-group without a start/);
    refuses([0x0c], /field 1 of ExportTraceServiceRequest has wire type 4/);
    refuses([0x02, 0x00], /field number 0/);
    refuses([0x08, 0x01], /field 1 of ExportTraceServiceRequest has wire type 0/);
    refuses([0x88, 0x01], /a varint at byte 2 runs past the end/);
    refuses([0x90, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /varint longer than 10 bytes/);
    refuses([0x91, 0x01, 1, 2, 3], /a 64-bit field at byte 2 runs past the end/);
    refuses([0x9b, 0x01, 0x08], /runs past the end/); // a group never closed
  });

  it('refuses a known field sent with another wire type, at any depth', () => {
    // span (field 2 of ScopeSpans) whose start time (fixed64) comes as a varint
    const span = [0x38, 0x01];
    const scopeSpans = [0x12, span.length, ...span];
    const resourceSpans = [0x12, scopeSpans.length, ...scopeSpans];
    refuses([0x0a, resourceSpans.length, ...resourceSpans], /field 7 of Span has wire type 0/);
  });

  it('skips unknown groups, and nested values as deep as protobufjs allows', () => {
    const group = [0xa3, 0x01, 0x08, 0x01, 0xab, 0x01, 0xac, 0x01, 0xa4, 0x01]; // field 20: { 1: 1, field 21: {} }
    expect(decodeTraceRequest(Buffer.from(group))).toStrictEqual(reference('traces', Buffer.from(group)));
    for (const depth of [40, 47, 48, 49, 50, 60]) {
      let value: Record<string, unknown> = { stringValue: 'deep' };
      for (let i = 0; i < depth; i++) value = { arrayValue: { values: [value] } };
      const body = encode('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: [{ key: 'k', value }] }] }] }] }, new Rnd(1), CLEAN);
      const mine = decodeOrError(() => decodeTraceRequest(body));
      const ref = decodeOrError(() => reference('traces', body));
      expect(mine.error === undefined, `depth ${depth}`).toBe(ref.error === undefined);
      if (mine.error) expect(mine.error).toBeInstanceOf(DecodeError);
      else expect(mine.value).toStrictEqual(ref.value);
    }
  });

  it('refuses strings that are not UTF-8, cached or not', () => {
    for (const bad of [[0xff], [0x61, 0xc3], [0xed, 0xa0, 0x80], Array.from({ length: 70 }, (_, i) => (i === 69 ? 0xc3 : 0x61))]) {
      const span = [0x2a, bad.length, ...bad];
      const scopeSpans = [0x12, span.length, ...span];
      const resourceSpans = [0x12, scopeSpans.length, ...scopeSpans];
      refuses([0x0a, resourceSpans.length, ...resourceSpans], /invalid UTF-8 in a string field/);
    }
  });
});
