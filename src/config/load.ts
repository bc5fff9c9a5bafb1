/**
 * Load the configuration: file → `${VAR}` expansion → schema (defaults, validation) → OTel
 * environment → frozen. Every problem is reported at once, each naming its key path.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import { expandEnv } from './expand.js';
import type { Signal } from '../otlp/signals.js';
import { resolveExportTargets, resolveResource, type AttributeValue, type EnvProblem, type ExportTarget } from './otel-env.js';
import { configSchema, type FileConfig } from './schema.js';
import { objectShape, schemaAt } from './schema-walk.js';

export interface Config extends FileConfig {
  /** The file the config came from, or null for defaults and environment alone. */
  readonly source: string | null;
  /** Resource attributes for records that carry none: service.name, the configured ones, OTEL_RESOURCE_ATTRIBUTES. */
  readonly resource: Readonly<Record<string, AttributeValue>>;
  /** Where each signal is exported over OTLP/HTTP, or null when no endpoint is configured. */
  readonly exportTargets: Readonly<Record<Signal, ExportTarget | null>>;
}

type Env = Record<string, string | undefined>;

export interface LoadOptions {
  /** Path of the YAML file; undefined runs on defaults and the environment alone. */
  file?: string;
  /** Text of the YAML file, when already read. */
  text?: string;
  env?: Env;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  let raw: unknown = {};
  const problems: EnvProblem[] = [];
  if (options.file !== undefined || options.text !== undefined) {
    let text = options.text;
    if (text === undefined) {
      try {
        text = readFileSync(options.file!, 'utf8');
      } catch (err) {
        throw new ConfigError([{ path: '', message: `cannot read config file ${options.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
      }
    }
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((e) => {
          const at = e.linePos?.[0];
          return { path: '', message: `invalid YAML${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` };
        }),
      );
    }
    problems.push(...expandEnv(doc, env));
    try {
      raw = doc.toJS() ?? {};
    } catch (err) {
      // An alias without its anchor (`*a`), or more aliases than a sane file has: found only here.
      throw new ConfigError([{ path: '', message: `invalid YAML: ${(err as Error).message}` }]);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError([{ path: '', message: `expected a mapping of keys at the top level, got ${describe(raw)}` }]);
    }
  }
  if (env.TRACETAIL_LOG_LEVEL) {
    raw = { ...(raw as object), log_level: env.TRACETAIL_LOG_LEVEL };
  }

  problems.push(...protoKeys(raw, []));
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    problems.push(...parsed.error.issues.flatMap((issue) => formatIssue(issue, raw)));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(dedupe(problems));

  const file = parsed.data;
  const exportTargets = resolveExportTargets(file, env, problems);
  if (problems.length > 0) throw new ConfigError(dedupe(problems));
  return deepFreeze({
    ...file,
    source: options.file ?? null,
    resource: resolveResource(file, env),
    exportTargets,
  });
}

function dedupe(problems: EnvProblem[]): EnvProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function quoteList(values: readonly unknown[]): string {
  const q = values.map((v) => JSON.stringify(v));
  if (q.length <= 2) return q.join(' or ');
  return `one of ${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function formatIssue(issue: z.core.$ZodIssue, raw: unknown): EnvProblem[] {
  const path = joinPath(issue.path);
  const input = 'input' in issue ? issue.input : valueAt(raw, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const shape = objectShape(schemaAt(configSchema, issue.path as (string | number)[]) ?? configSchema);
      const known = shape ? Object.keys(shape) : [];
      return issue.keys.map((key) => {
        const hint = didYouMean(key, known);
        return {
          path: path ? `${path}.${key}` : key,
          message: hint ? `unknown key; did you mean "${hint}"?` : `unknown key (known keys here: ${known.join(', ')})`,
        };
      });
    }
    case 'invalid_value':
      return [{ path, message: `expected ${quoteList(issue.values)}, got ${JSON.stringify(input)}` }];
    case 'invalid_type':
      return [{ path, message: `expected ${issue.expected}, got ${describe(input)}` }];
    case 'invalid_union': {
      const expected = [...new Set(issue.errors.flat().map((e) => (e.code === 'invalid_type' ? e.expected : undefined)).filter(Boolean))];
      return [{ path, message: expected.length ? `expected ${expected.join(' or ')}, got ${describe(input)}` : issue.message }];
    }
    case 'invalid_format':
      return [{ path, message: `expected a ${issue.format === 'url' ? 'URL such as "http://collector:4318"' : issue.format}, got ${describe(input)}` }];
    case 'too_small':
      return [{ path, message: issue.origin === 'array' || issue.origin === 'string' ? `must not be empty` : `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${describe(input)}` }];
    case 'too_big':
      return [{ path, message: `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${describe(input)}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/**
 * Keys named `__proto__` (under `service.resource_attributes` or `export.otlp.headers`, say): the
 * schema's maps would drop them without a word, so they are refused by their path.
 */
function protoKeys(value: unknown, path: readonly string[]): EnvProblem[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.keys(value).flatMap((key) =>
    key === '__proto__'
      ? [{ path: [...path, key].join('.'), message: 'a key named __proto__ is not supported' }]
      : protoKeys((value as Record<string, unknown>)[key], [...path, key]),
  );
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
