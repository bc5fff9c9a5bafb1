/**
 * logfmt (`key=value key2="quoted value" flag`), as Go's slog text handler, go-kit, logrus' text
 * formatter and Heroku write it. Values stay strings (logfmt has no types; a decimal trace id stays
 * exact); quoted values are unescaped as JSON strings are. A bare key is `true`, as in kr/logfmt.
 * One pass over char codes, no regex.
 */
import { setField } from './types.js';

/**
 * The pairs of `text`, or undefined when it is not logfmt. With `strict` (auto-detection) every
 * token must be `key=value` and there must be at least two; otherwise bare keys are allowed and one
 * pair is enough.
 */
export function parseLogfmt(text: string, strict: boolean): Record<string, unknown> | undefined {
  const n = text.length;
  const out: Record<string, unknown> = {};
  let pairs = 0;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const keyStart = i;
    let c = text.charCodeAt(i);
    while (i < n && c !== 61 /* = */ && c !== 34 /* " */ && !isSpace(c)) c = text.charCodeAt(++i);
    if (i === keyStart) return undefined; // `=x` or a stray quote
    const key = text.slice(keyStart, i);
    if (i >= n || c !== 61) {
      if (strict || c === 34) return undefined;
      setField(out, key, true);
      continue;
    }
    i++; // '='
    if (i < n && text.charCodeAt(i) === 34) {
      const valueStart = i;
      let escaped = false;
      i++;
      for (; i < n; i++) {
        c = text.charCodeAt(i);
        if (c === 92 /* \ */) {
          escaped = true;
          i++;
        } else if (c === 34) break;
      }
      if (i >= n) return undefined; // unterminated quote
      i++;
      if (i < n && !isSpace(text.charCodeAt(i))) return undefined; // `k="a"b`
      if (escaped) {
        try {
          setField(out, key, JSON.parse(text.slice(valueStart, i)));
        } catch {
          return undefined;
        }
      } else setField(out, key, text.slice(valueStart + 1, i - 1));
    } else {
      const valueStart = i;
      while (i < n && !isSpace(text.charCodeAt(i))) i++;
      setField(out, key, text.slice(valueStart, i));
    }
    pairs++;
  }
  return pairs >= (strict ? 2 : 1) ? out : undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** Cheap test for auto-detection: the line starts with `key=` (a letter or `_` first). */
export function startsLikeLogfmt(text: string): boolean {
  const c = text.charCodeAt(0);
  if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 64)) return false;
  const n = Math.min(text.length, 128);
  for (let i = 1; i < n; i++) {
    const d = text.charCodeAt(i);
    if (d === 61) return true;
    if (isSpace(d) || d === 34) return false;
  }
  return false;
}
