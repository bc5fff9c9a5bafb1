/**
 * An OTLP trace or logs request cut into requests of at most `maxItems` items and, encoded, at
 * most `maxBytes` bytes, as the Collector's exporter batcher cuts requests larger than its
 * `max_size`. An app may send one request larger than an export request may be (up to
 * `receivers.otlp.max_request_bytes`); queued whole, it would go out whole, and a backend that
 * refuses it as too large would have it dropped. Resources and scopes are repeated in each part
 * that holds some of their items; items keep their order. One item larger than `maxBytes` on its
 * own is a part of its own (nothing smaller can be made of it).
 */
import { countItems, encodeRequest, type RequestOf as Requests } from '../otlp/codec.js';

export interface SplitLimits {
  maxItems: number;
  maxBytes: number;
}

export interface EncodedPart {
  payload: Uint8Array;
  items: number;
}

type Signal = 'traces' | 'logs';
type RequestOf<S extends Signal> = Requests[S];

/** Where each signal keeps its resource groups, scope groups and items. */
const SHAPE = {
  traces: { groups: 'resourceSpans', scopes: 'scopeSpans', items: 'spans' },
  logs: { groups: 'resourceLogs', scopes: 'scopeLogs', items: 'logRecords' },
} as const;

type Group = Record<string, unknown>;

/**
 * `req` encoded as one part when it is within the limits, else as several. `encoded`, when given,
 * is `req` already encoded (as received): used as it is when within the limits.
 */
export function encodeWithin<S extends Signal>(signal: S, req: RequestOf<S>, limits: SplitLimits, encoded?: Uint8Array): EncodedPart[] {
  const items = countItems(signal, req);
  let max = limits.maxItems;
  if (items <= max) {
    const payload = encoded ?? encodeRequest(signal, req);
    if (payload.byteLength <= limits.maxBytes || items <= 1) return [{ payload, items }];
    // Within the item limit but too large in bytes: in two halves, each cut again if needed.
    max = Math.ceil(items / 2);
  }
  return cut(signal, req, max).flatMap((part) => encodeWithin(signal, part, limits));
}

/** `req` as requests of at most `max` items each, in order. */
export function cut<S extends Signal>(signal: S, req: RequestOf<S>, max: number): RequestOf<S>[] {
  const shape = SHAPE[signal];
  const parts: RequestOf<S>[] = [];
  let groups: Group[] = [];
  let room = max;
  const close = () => {
    // A part is made only of items: scopes without any that come after a full part are left out.
    if (room < max) parts.push({ [shape.groups]: groups } as unknown as RequestOf<S>);
    groups = [];
    room = max;
  };
  for (const group of (req as unknown as Record<string, Group[]>)[shape.groups] ?? []) {
    let scopes: Group[] | undefined;
    for (const scope of (group[shape.scopes] as Group[] | undefined) ?? []) {
      const list = (scope[shape.items] as unknown[] | undefined) ?? [];
      let at = 0;
      do {
        const take = Math.min(room, list.length - at);
        if (!scopes) groups.push({ ...group, [shape.scopes]: (scopes = []) });
        scopes.push(take === list.length ? scope : { ...scope, [shape.items]: list.slice(at, at + take) });
        at += take;
        room -= take;
        if (room === 0) {
          close();
          scopes = undefined;
        }
      } while (at < list.length);
    }
  }
  close();
  return parts;
}
