/** Walking the zod schema: used for did-you-mean hints and for the README reference table. */
import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  defaultValue?: unknown;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema under optional/nullable/default wrappers and transforms. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const d = defOf(s);
    if (d.innerType && ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

/** The default a user would write, for documentation: `prefault` holds input, `default` output. */
export function defaultOf(schema: z.ZodType): { has: boolean; value?: unknown } {
  let s = schema;
  for (;;) {
    const d = defOf(s);
    if (d.type === 'default' || d.type === 'prefault') return { has: true, value: d.defaultValue };
    if (d.innerType && ['optional', 'nullable', 'readonly', 'catch'].includes(d.type)) s = d.innerType;
    else return { has: false };
  }
}

export function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const d = defOf(unwrap(schema));
  return d.type === 'object' ? d.shape : undefined;
}

export function schemaAt(root: z.ZodType, path: readonly (string | number)[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = root;
  for (const part of path) {
    if (!s) return undefined;
    const d = defOf(unwrap(s));
    if (d.type === 'object' && typeof part === 'string') s = d.shape?.[part];
    else if (d.type === 'array' && typeof part === 'number') s = d.element;
    else return undefined;
  }
  return s;
}

export function isLeaf(schema: z.ZodType): boolean {
  return objectShape(schema) === undefined;
}
