import { isPair, isScalar, isSeq, parse as parseYamlValue, Scalar, visit, type Document } from 'yaml';

/**
 * `${VAR}` and `${VAR:-default}` inside values, expanded from the environment; `$$` is a literal
 * `$`. An unquoted value that is nothing but one reference takes the YAML type of what it expands
 * to (`port: ${PORT}` is a number), quoted values stay strings.
 */
const REF_RE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface ExpansionProblem {
  path: string;
  message: string;
}

export function expandEnv(doc: Document, env: Record<string, string | undefined>): ExpansionProblem[] {
  const problems: ExpansionProblem[] = [];
  visit(doc, {
    Scalar(key, node, path) {
      // Keys stay as written: a problem names the key the file has.
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const keyPath = pathOf(path, key);
      const original = node.value;
      const expanded = original.replace(REF_RE, (whole, name: string | undefined, fallback: string | undefined) => {
        if (whole === '$$') return '$';
        const value = env[name!];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        problems.push({
          path: keyPath,
          message: `environment variable ${name} is not set (write \${${name}:-default} to give a default)`,
        });
        return '';
      });
      const wholeRef = /^\$\{[^}]+\}$/.test(original);
      node.value = wholeRef && node.type === Scalar.PLAIN ? parseYamlValue(expanded) : expanded;
    },
  });
  return problems;
}

function pathOf(ancestors: readonly unknown[], ownKey: number | 'key' | 'value' | null): string {
  const parts: string[] = [];
  for (let i = 0; i < ancestors.length; i++) {
    const node = ancestors[i];
    if (isPair(node)) {
      if (isScalar(node.key)) parts.push(String(node.key.value));
    } else if (isSeq(node)) {
      const child = i + 1 < ancestors.length ? ancestors[i + 1] : undefined;
      const idx = child === undefined ? ownKey : node.items.indexOf(child);
      if (typeof idx === 'number' && idx >= 0) parts.push(String(idx));
    }
  }
  return parts.join('.');
}
