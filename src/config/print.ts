/** The effective configuration as YAML a user can read back: units restored, secrets redacted. */
import { stringify } from 'yaml';
import type { z } from 'zod';
import type { Config } from './load.js';
import { configSchema, keyDocs, type Endpoint } from './schema.js';
import { objectShape } from './schema-walk.js';
import { formatDuration } from './units.js';

const REDACTED = '<redacted>';

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = REDACTED;
    return u.toString();
  } catch {
    return url;
  }
}

function printable(schema: z.ZodType | undefined, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return value;
  const shape = schema ? objectShape(schema) : undefined;
  if (shape && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = printable(shape[k], v, `${path}${k}.`);
    return out;
  }
  const type = schema ? keyDocs.get(schema)?.type ?? '' : '';
  if (type.startsWith('duration') && typeof value === 'number') return formatDuration(value);
  if (type.startsWith('host:port')) {
    if (typeof value === 'object' && 'path' in value) return `unix:${(value as { path: string }).path}`;
    const e = value as Endpoint;
    return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
  }
  if (type === 'octal mode' && typeof value === 'number') return `0${value.toString(8)}`;
  if (path === 'debug.token.') return REDACTED;
  if (path === 'export.otlp.headers.' && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]));
  }
  if (typeof value === 'string' && /^https?:\/\//.test(value)) return redactUrl(value);
  return value;
}

export function printConfig(config: Config): string {
  const { source: _source, resource, exportTargets, ...file } = config;
  const view = printable(configSchema, file, '') as Record<string, unknown>;
  view.effective = {
    resource,
    export_targets: Object.fromEntries(
      Object.entries(exportTargets).map(([signal, t]) => [
        signal,
        t && { ...t, url: redactUrl(t.url), headers: Object.fromEntries(Object.keys(t.headers).map((k) => [k, REDACTED])) },
      ]),
    ),
  };
  return stringify(view, { lineWidth: 0 });
}
