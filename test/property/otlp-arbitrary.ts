/**
 * fast-check arbitraries of OTLP messages made from the protobuf schema itself: every field of
 * every message reachable from a request, at most one member of each oneof, 64-bit values over
 * their whole range, doubles with NaN, infinities and -0, enums past their known values; and the
 * OTLP JSON form of such a message written independently of the codec (hex ids, int64 as strings
 * or numbers, bytes as base64, non-finite doubles as strings).
 */
import fc from 'fast-check';
import Long from 'long';
import protobuf from 'protobufjs';

/** Message nesting from the request down (an AnyValue inside a kvlist inside an array is 10 deep). */
const MAX_DEPTH = 10;
const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

function scalar(type: string, name: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return fc.string({ unit: 'binary', maxLength: 16 });
    case 'bytes': {
      const any = fc.uint8Array({ maxLength: 20 });
      const id = name === 'traceId' ? fc.uint8Array({ minLength: 16, maxLength: 16 }) : fc.uint8Array({ minLength: 8, maxLength: 8 });
      return (ID_FIELDS.has(name) ? fc.oneof({ arbitrary: id, weight: 4 }, { arbitrary: any, weight: 1 }) : any).map((b) => Buffer.from(b));
    }
    case 'bool':
      return fc.boolean();
    case 'uint32':
    case 'fixed32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'enum':
      return fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(-1, 2 ** 31 - 1));
    case 'int64':
      return fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((v) => Long.fromString(v.toString(), false));
    case 'fixed64':
      return fc.bigInt(0n, 2n ** 64n - 1n).map((v) => Long.fromString(v.toString(), true));
    case 'double':
      return fc.double();
    default:
      throw new Error(`no arbitrary for protobuf type ${type}`);
  }
}

const cache = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

function fieldArbitrary(f: protobuf.Field, depth: number): fc.Arbitrary<unknown> | undefined {
  const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
  if (message && depth + 1 > MAX_DEPTH) return undefined;
  const one = message ? messageArbitrary(message, depth + 1) : scalar(f.resolvedType instanceof protobuf.Enum ? 'enum' : f.type, f.name);
  return f.repeated ? fc.array(one, { maxLength: depth < 4 ? 3 : 2 }) : one;
}

/** Random messages of `type` (plain objects for protobufjs's fromObject), any field left out. */
export function messageArbitrary(type: protobuf.Type, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const key = `${type.fullName}@${depth}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const plain: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of type.fieldsArray) {
    if (f.partOf) continue;
    const arb = fieldArbitrary(f, depth);
    if (arb) plain[f.name] = arb;
  }
  const oneofs = type.oneofsArray.map((o) => {
    const members = o.fieldsArray.flatMap((f) => {
      const arb = fieldArbitrary(f, depth);
      return arb ? [arb.map((v): Record<string, unknown> => ({ [f.name]: v }))] : [];
    });
    return fc.option(fc.oneof(...members), { nil: undefined });
  });
  const arb = fc
    .tuple(fc.record(plain, { requiredKeys: [] }), ...oneofs)
    .map(([fields, ...chosen]) => Object.assign({}, fields, ...chosen.filter((c) => c !== undefined)) as Record<string, unknown>);
  cache.set(key, arb);
  return arb;
}

function jsonScalar(type: string, name: string, v: unknown): unknown {
  if (type === 'bytes') return ID_FIELDS.has(name) ? Buffer.from(v as Uint8Array).toString('hex') : Buffer.from(v as Uint8Array).toString('base64');
  if (type === 'int64' || type === 'fixed64') {
    const long = v as Long;
    // proto3 JSON: a decimal string, or a number when it is exact (both are accepted)
    return (long.low & 1) === 1 && long.lessThanOrEqual(Number.MAX_SAFE_INTEGER) && long.greaterThanOrEqual(-Number.MAX_SAFE_INTEGER) ? long.toNumber() : long.toString();
  }
  if (type === 'double') return Number.isFinite(v) && !Object.is(v, -0) ? v : String(Object.is(v, -0) ? '-0' : v);
  return v;
}

/** The OTLP JSON object of a message made by `messageArbitrary`. */
export function toOtlpJson(type: protobuf.Type, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(obj)) {
    const f = type.fields[name];
    const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    const one = (x: unknown) => (message ? toOtlpJson(message, x as Record<string, unknown>) : jsonScalar(f.type, name, x));
    out[name] = f.repeated ? (v as unknown[]).map(one) : one(v);
  }
  return out;
}

/**
 * A message as comparable plain data: int64 as decimal strings, bytes as base64, NaN as "NaN", and
 * every field at its default when not set (proto3 need not send a default; a oneof member is
 * still there only when set).
 */
export function canonical(type: protobuf.Type, message: protobuf.Message | Record<string, unknown>): Record<string, unknown> {
  const m = message instanceof protobuf.Message ? message : type.fromObject(message);
  return type.toObject(m, { longs: String, bytes: String, enums: Number, json: true, defaults: true });
}
