/**
 * Properties of config loading: valid random configs load with the values they were written with
 * (durations in ms, sizes in bytes, endpoints split); wrong values of any type at any key, unknown
 * keys, and random YAML text never fail with anything but a ConfigError, and every problem of a
 * config that parses names the key path it is about.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { objectShape } from '../../src/config/schema-walk.js';
import { ConfigError } from '../../src/errors.js';
import { check } from './settings.js';

/** Every key path of the schema, and the paths of its sections (the objects). */
function keyPaths(shape: Record<string, unknown> | undefined, prefix: string[] = []): { keys: string[][]; sections: string[][] } {
  const keys: string[][] = [];
  const sections: string[][] = [prefix];
  for (const [name, schema] of Object.entries(shape ?? {})) {
    const path = [...prefix, name];
    keys.push(path);
    const inner = objectShape(schema as never);
    if (inner) {
      const below = keyPaths(inner, path);
      keys.push(...below.keys);
      sections.push(...below.sections);
    }
  }
  return { keys, sections };
}
const { keys: KEYS, sections: SECTIONS } = keyPaths(objectShape(configSchema));

/** A config object with each value set at its path (a path under a value that is not a mapping is left out). */
function build(entries: readonly (readonly [readonly string[], unknown])[]): { doc: Record<string, unknown>; paths: string[][] } {
  const doc: Record<string, unknown> = {};
  const paths: string[][] = [];
  for (const [path, value] of [...entries].sort(([a], [b]) => a.length - b.length)) {
    let at: Record<string, unknown> | undefined = doc;
    for (const part of path.slice(0, -1)) {
      const next: unknown = (at[part] ??= {});
      at = next !== null && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : undefined;
      if (!at) break;
    }
    if (!at) continue;
    Object.defineProperty(at, path[path.length - 1], { value, enumerable: true, writable: true, configurable: true }); // `__proto__` too
    paths.push([...path]);
  }
  return { doc, paths };
}

function loadOrConfigError(text: string): { config?: Config; error?: ConfigError } {
  try {
    return { config: loadConfig({ text, env: {} }) };
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { error: error as ConfigError };
  }
}

/** A problem at `issue` is about one of the keys set: the key, a key under it or over it, or a sibling (checks across keys of a section). */
function isAbout(issue: string, paths: string[][]): boolean {
  return paths.some((p) => {
    const key = p.join('.');
    const section = p.slice(0, -1).join('.');
    return issue === key || issue.startsWith(`${key}.`) || key.startsWith(`${issue}.`) || (section !== '' && issue.startsWith(`${section}.`));
  });
}

// ---- wrong values ----------------------------------------------------------------------------------

const anyValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('5s', '-1', '0', '64MiB', 'unix:', '127.0.0.1:99999', 'http://', '(?<trace_id>', '[', '${UNSET}', '$$', 'regex', 'end'),
  fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant(null)), { maxKeys: 3 }),
);
const wrongValue = fc.tuple(fc.constantFrom(...KEYS), anyValue);
const isKey = (path: readonly string[]) => KEYS.some((k) => k.join('.') === path.join('.'));
const unknownKey = fc
  .tuple(fc.constantFrom(...SECTIONS), fc.oneof(fc.constantFrom('__proto__', '$$x', '${X}'), fc.string({ minLength: 1, maxLength: 8 })), anyValue)
  .map(([section, key, value]) => [[...section, key], value] as const)
  .filter(([path]) => !isKey(path));

describe('config loading', () => {
  it('values of any type at any key, and unknown keys, fail only with a ConfigError naming the keys', () => {
    check(
      fc.property(fc.array(fc.oneof({ arbitrary: wrongValue, weight: 4 }, { arbitrary: unknownKey, weight: 1 }), { minLength: 1, maxLength: 4 }), (entries) => {
        const { doc, paths } = build(entries);
        const { error } = loadOrConfigError(stringify(doc));
        // a key the schema does not have is always refused, by its path
        for (const path of paths.filter((p) => !isKey(p))) expect(error?.issues.map((i) => i.path)).toContain(path.join('.'));
        for (const issue of error?.issues ?? []) {
          expect(issue.path, issue.message).not.toBe('');
          expect(isAbout(issue.path, paths), `${issue.path}: ${issue.message}`).toBe(true);
          expect(issue.message).not.toBe('');
        }
      }),
    );
  });

  it('random YAML text loads or fails with a ConfigError that says why', () => {
    const yamlish = fc.string({ unit: fc.constantFrom('logs', 'format', 'start_at', ':', ' ', '\n', '  ', '- ', '[', ']', '{', '}', '"', "'", '#', '&a', '*a', '!!', '${X}', 'null', '1', 'x', '\t', '? '), maxLength: 30 });
    // an alias with or without its anchor
    const aliased = fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('a', 'b')).map(([anchor, alias]) => `service:\n  name: &${anchor} svc\nlog_level: *${alias}\n`);
    check(
      fc.property(fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 40 }), aliased), (text) => {
        const { error } = loadOrConfigError(text);
        if (error) {
          expect(error.issues.length).toBeGreaterThan(0);
          for (const issue of error.issues) expect(issue.message).not.toBe('');
        }
      }),
    );
  });

  // ---- valid configs ---------------------------------------------------------------------------------

  /** A key set to a valid value, with what the loaded config holds for it. */
  type Setting = { path: string[]; written: unknown; loaded: unknown };
  const at = (path: string) => (value: { written: unknown; loaded: unknown }): Setting => ({ path: path.split('.'), ...value });
  const same = (path: string) => (v: unknown) => at(path)({ written: v, loaded: v });

  const duration = fc.oneof(
    fc.integer({ min: 0, max: 100_000 }).map((ms) => ({ written: `${ms}ms`, loaded: ms })),
    fc.integer({ min: 0, max: 3600 }).map((s) => ({ written: `${s}s`, loaded: s * 1000 })),
    fc.tuple(fc.integer({ min: 1, max: 59 }), fc.integer({ min: 0, max: 59 })).map(([m, s]) => ({ written: `${m}m${s}s`, loaded: (m * 60 + s) * 1000 })),
    fc.integer({ min: 1, max: 48 }).map((h) => ({ written: `${h}h`, loaded: h * 3_600_000 })),
  );
  const UNITS: [string, number][] = [
    ['', 1],
    ['B', 1],
    ['kb', 1000],
    ['KiB', 1024],
    ['MB', 1e6],
    ['MiB', 1024 ** 2],
    ['GiB', 1024 ** 3],
  ];
  const size = fc.oneof(
    fc.nat().map((n) => ({ written: n as unknown, loaded: n })),
    fc.tuple(fc.integer({ min: 1, max: 1024 }), fc.constantFrom(...UNITS)).map(([n, [unit, bytes]]) => ({ written: `${n}${unit}`, loaded: n * bytes })),
  );
  const HOSTS: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', 'localhost'],
    ['[::1]', '::1'],
    ['0.0.0.0', '0.0.0.0'],
    ['sidecar-1.local', 'sidecar-1.local'],
  ];
  const endpoint = fc.tuple(fc.constantFrom(...HOSTS), fc.integer({ min: 0, max: 65535 })).map(([[written, host], port]) => ({ written: `${written}:${port}`, loaded: { host, port } }));
  // no `${` (expanded from the environment); no `__proto__`, a key the config refuses
  const text = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('$') && s !== '__proto__');

  const settings = fc.record(
    {
      logLevel: fc.constantFrom('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent').map(same('log_level')),
      serviceName: text.map(same('service.name')),
      resourceAttributes: fc.dictionary(text, fc.oneof(text, fc.integer(), fc.boolean()), { maxKeys: 4 }).map(same('service.resource_attributes')),
      include: fc.array(fc.stringMatching(/^\/[a-z0-9_.*/-]{1,24}$/), { maxLength: 3 }).map(same('logs.include')),
      startAt: fc.constantFrom('beginning', 'end').map(same('logs.start_at')),
      format: fc.constantFrom('auto', 'json', 'logfmt', 'text').map(same('logs.format')),
      maxLineBytes: size.map(at('logs.max_line_bytes')),
      partialLineTimeout: duration.map(at('logs.partial_line_timeout')),
      scanText: fc.boolean().map(same('logs.trace_context.scan_text')),
      metricsEndpoint: endpoint.map(at('metrics.endpoint')),
      naming: fc.constantFrom('otel', 'tempo').map(same('metrics.span_metrics.naming')),
      buckets: fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 6 }).map(same('metrics.span_metrics.histogram_buckets')),
      exportEndpoint: endpoint.map(({ written }) => `http://${written}/otlp`).map(same('export.otlp.endpoint')),
      protocol: fc.constantFrom('http/protobuf', 'http/json').map(same('export.otlp.protocol')),
      compressionLevel: fc.integer({ min: 1, max: 9 }).map(same('export.otlp.compression_level')),
      concurrency: fc.integer({ min: 1, max: 64 }).map(same('export.concurrency')),
      maxQueueBytes: size.map(at('storage.max_queue_bytes')),
      window: duration.filter((d) => d.loaded >= 1000).map(at('correlation.window')),
      memory: fc.integer({ min: 1, max: 1 << 20 }).map(same('limits.memory_mib')),
      shutdown: duration.map(at('shutdown_timeout')),
    },
    { requiredKeys: [] },
  );

  it('valid random configs load, each key with the value it was written with', () => {
    check(
      fc.property(settings, (chosen) => {
        const list = Object.values(chosen);
        const { doc } = build(list.map((s) => [s.path, s.written]));
        const config = loadConfig({ text: stringify(doc), env: {} });
        for (const s of list) {
          const value = s.path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config);
          expect(value, s.path.join('.')).toEqual(s.loaded);
        }
        if (chosen.serviceName) expect(config.resource['service.name']).toBe(chosen.serviceName.written);
      }),
    );
  });

  it('refuses a map key named __proto__ by its path, where the map would lose it', () => {
    const maps = fc.constantFrom('service.resource_attributes', 'export.otlp.headers');
    check(
      fc.property(maps, fc.dictionary(text, text, { maxKeys: 3 }), fc.string({ maxLength: 8 }), (map, entries, value) => {
        const { doc } = build([[map.split('.'), { ...entries }]]);
        const target = map.split('.').reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, doc);
        Object.defineProperty(target, '__proto__', { value, enumerable: true });
        const { error } = loadOrConfigError(stringify(doc));
        expect(error, 'refused').toBeDefined();
        expect(error!.issues).toContainEqual({ path: `${map}.__proto__`, message: 'a key named __proto__ is not supported' });
      }),
      { scale: 0.2 },
    );
  });
});
