/**
 * Attributes as the trace index keeps them: one flat array `key, value, key, value…` instead of a
 * KeyValue and an AnyValue object (and a Long for an integer) per attribute, with scalar values
 * already in the JSON form the debug API shows them in (jsonValue: int64 as a number when exact,
 * else its decimal text; bytes as base64; a non-finite double as text). Arrays and kvlists stay
 * the AnyValue they came as, shown when asked for. Keys are interned: the index then holds one
 * copy of each, not one per span, and none of the decoded request it came from.
 */
import type { AnyValue, KeyValue } from '../../otlp/types.js';
import { anyValueKind, jsonOfKind, jsonValue } from '../../otlp/values.js';

/** A kept value: a JSON scalar, or the AnyValue of an array or kvlist. */
export type CompactValue = string | number | boolean | null | AnyValue;
/** `key, value, key, value…` (keys at even indexes). */
export type CompactAttributes = readonly (string | CompactValue)[];

export const NO_ATTRIBUTES: CompactAttributes = Object.freeze([]);

// Rough V8 costs on a 64-bit heap: a JS array and its elements, a string, a boxed double.
const ARRAY_BYTES = 48;
const SLOT_BYTES = 8;
const STRING_BYTES = 24;
const NUMBER_BYTES = 16;

export function stringBytes(s: string | null | undefined): number {
  return s ? STRING_BYTES + s.length * 2 : 0;
}

/**
 * Interns short strings that repeat (attribute keys, span names, severity texts), up to a number
 * of distinct strings: past it new strings are kept as they are (and counted by the summary that
 * holds them), so the table stays bounded (about half a MiB at most, with the defaults) and a
 * string it returns is always shared.
 */
export class StringTable {
  private readonly strings = new Map<string, string>();

  constructor(
    private readonly maxEntries = 4096,
    private readonly maxLength = 64,
  ) {}

  /** The shared copy of `s`, or undefined when `s` is not held (too long, or the table is full). */
  intern(s: string): string | undefined {
    const held = this.strings.get(s);
    if (held !== undefined) return held;
    if (s.length > this.maxLength || this.strings.size >= this.maxEntries) return undefined;
    this.strings.set(s, s);
    return s;
  }
}

/** Estimated bytes of an AnyValue kept as it is (nested values walked to a small depth). */
function anyValueBytes(v: AnyValue | null | undefined, depth = 0): number {
  const kind = anyValueKind(v);
  if (!kind || !v) return 16;
  switch (kind) {
    case 'stringValue':
      return 48 + stringBytes(v.stringValue);
    case 'bytesValue':
      return 64 + v.bytesValue!.byteLength;
    case 'arrayValue':
      return depth > 2 ? 256 : 64 + v.arrayValue!.values.reduce((n, x) => n + anyValueBytes(x, depth + 1), 0);
    case 'kvlistValue':
      return depth > 2 ? 256 : 64 + v.kvlistValue!.values.reduce((n, kv) => n + 48 + stringBytes(kv.key) + anyValueBytes(kv.value, depth + 1), 0);
    default:
      return 96;
  }
}

/** Writes the kept form of `v` at `out[at]`; returns its estimated bytes. */
function compactValue(v: AnyValue | null | undefined, out: (string | CompactValue)[], at: number): number {
  const kind = anyValueKind(v);
  switch (kind) {
    case 'stringValue': {
      const s = v!.stringValue!;
      out[at] = s;
      return stringBytes(s);
    }
    case 'boolValue':
      out[at] = v!.boolValue!;
      return 0;
    case 'arrayValue':
    case 'kvlistValue':
      out[at] = v!;
      return anyValueBytes(v);
    case undefined:
      out[at] = null;
      return 0;
    default: {
      const json = jsonOfKind(v, kind) as string | number;
      if (typeof json === 'string') {
        out[at] = json;
        return stringBytes(json);
      }
      // An integer that fits in 31 bits is kept unboxed (`| 0` tells V8 so), any other number boxed.
      if ((json | 0) === json) {
        out[at] = json | 0;
        return 0;
      }
      out[at] = json;
      return NUMBER_BYTES;
    }
  }
}

export interface Compacted {
  attributes: CompactAttributes;
  /** Attributes past `max`, not kept. */
  dropped: number;
  bytes: number;
}

const NONE: Compacted = Object.freeze({ attributes: NO_ATTRIBUTES, dropped: 0, bytes: 0 });

/** The first `max` attributes in their kept form, keys interned in `keys`. */
export function compactAttributes(attributes: readonly KeyValue[] | null | undefined, max: number, keys: StringTable): Compacted {
  if (!attributes || attributes.length === 0) return NONE;
  const n = Math.min(attributes.length, max);
  // Exact length: the array is never grown.
  const out = new Array<string | CompactValue>(2 * n);
  let bytes = ARRAY_BYTES + 2 * n * SLOT_BYTES;
  for (let i = 0; i < n; i++) {
    const kv = attributes[i];
    const key = kv.key ?? '';
    const shared = keys.intern(key);
    if (shared === undefined) bytes += stringBytes(key);
    out[2 * i] = shared ?? key;
    bytes += compactValue(kv.value, out, 2 * i + 1);
  }
  // Counts as small integers (`| 0`): a field that V8 sees holding a double costs a box per object.
  return { attributes: out, dropped: (attributes.length - n) | 0, bytes: bytes | 0 };
}

/** Kept attributes as a JSON object, as `jsonAttributes` shows the attributes they came from. */
export function compactAttributesJson(attributes: CompactAttributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < attributes.length; i += 2) {
    const v = attributes[i + 1];
    out[attributes[i] as string] = v !== null && typeof v === 'object' ? jsonValue(v) : v;
  }
  return out;
}
