/**
 * The path side of `logs.include` / `logs.exclude`: which files match, which directories could
 * hold a match (everything else is pruned so a big tree under a base costs no watches), and which
 * directories to watch so that bases created after start are still found.
 */
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import picomatch from 'picomatch';

type Test = (s: string) => boolean;

/** picomatch options shared by every matcher: shell semantics, so `*` and `**` skip dot names. */
const PM_OPTIONS: picomatch.PicomatchOptions = { dot: false };

/** Globs made absolute against `cwd` (a leading `!` is not supported: that is what exclude is for). */
export function absoluteGlob(glob: string, cwd: string): string {
  if (isAbsolute(glob)) return glob;
  const base = cwd.endsWith(sep) ? cwd : cwd + sep;
  return base + (glob.startsWith('./') ? glob.slice(2) : glob);
}

/** Expands `{a,b}` alternatives (nested too) so a glob can be cut into path segments. */
export function expandBraces(glob: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const parts = splitTopLevel(glob.slice(open + 1, i));
        if (parts.length < 2) continue; // `{a}` is literal to picomatch too
        const head = glob.slice(0, open);
        const tails = expandBraces(glob.slice(i + 1));
        const out: string[] = [];
        for (const p of parts) for (const e of expandBraces(p)) for (const t of tails) out.push(head + e + t);
        return out;
      }
    }
  }
  return [glob];
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** One glob alternative cut into segments, each a literal or a compiled segment matcher. */
interface SegmentedGlob {
  segments: Array<string | Test | '**'>;
}

function segmentGlob(glob: string): SegmentedGlob {
  const segments = glob.split('/').map((seg): string | Test | '**' => {
    if (seg === '**') return '**';
    return picomatch.scan(seg).isGlob ? picomatch(seg, PM_OPTIONS) : seg;
  });
  return { segments };
}

/**
 * Whether some path under directory `dirSegs` could match `g`: every directory segment matches
 * its glob segment and at least one glob segment (the file name) is left, or a `**` is reached.
 */
function dirCanContain(g: SegmentedGlob, dirSegs: string[]): boolean {
  const { segments } = g;
  for (let i = 0; i < dirSegs.length; i++) {
    const s = segments[i];
    if (s === '**') {
      for (let j = i; j < dirSegs.length; j++) if (dirSegs[j].startsWith('.')) return false;
      return true;
    }
    if (i >= segments.length - 1) return false;
    if (typeof s === 'string' ? s !== dirSegs[i] : !s(dirSegs[i])) return false;
  }
  return true;
}

export class GlobPaths {
  readonly include: string[];
  readonly exclude: string[];
  private readonly fileMatch: Test;
  private readonly excludeMatch: Test;
  /** Excludes ending in `/**`: a directory they match holds nothing that could be included. */
  private readonly dirExcludeMatch: Test;
  private readonly segmented: SegmentedGlob[];

  constructor(include: string[], exclude: string[], cwd: string = process.cwd()) {
    this.include = include.map((g) => absoluteGlob(g, cwd));
    this.exclude = exclude.map((g) => absoluteGlob(g, cwd));
    const never: Test = () => false;
    this.fileMatch = this.include.length ? picomatch(this.include, PM_OPTIONS) : never;
    this.excludeMatch = this.exclude.length ? picomatch(this.exclude, PM_OPTIONS) : never;
    const dirEx = this.exclude.filter((g) => g.endsWith('/**')).map((g) => g.slice(0, -3));
    this.dirExcludeMatch = dirEx.length ? picomatch(dirEx, PM_OPTIONS) : never;
    this.segmented = this.include.flatMap(expandBraces).map(segmentGlob);
  }

  /** A file at this path is wanted: it matches an include and no exclude. */
  wantsFile(path: string): boolean {
    return this.fileMatch(path) && !this.excludeMatch(path);
  }

  /** A directory at this path could hold (at any depth) a file that is wanted. */
  wantsDir(path: string): boolean {
    if (this.dirExcludeMatch(path)) return false;
    const segs = path === sep ? [''] : path.split(sep);
    return this.segmented.some((g) => dirCanContain(g, segs));
  }

  /** The include globs none of `files` matches, each with its base directory (see bases()). */
  unmatched(files: readonly string[]): { glob: string; base: string }[] {
    const bases = this.bases();
    return this.include.flatMap((glob, i) => {
      const match = picomatch(glob, PM_OPTIONS);
      return files.some((f) => match(f)) ? [] : [{ glob, base: bases[i] }];
    });
  }

  /** Directories that are no glob (the part before the first glob character of each include). */
  bases(): string[] {
    return this.include.map((g) => {
      const scan = picomatch.scan(g);
      return scan.isGlob ? resolve(scan.base || sep) : dirname(resolve(g));
    });
  }
}

/**
 * The directories to hand the watcher: for each base, its parent (so the base itself being created,
 * deleted or replaced is seen), or the nearest ancestor that exists. Nested roots are dropped.
 */
export function watchRoots(bases: string[], exists: (p: string) => boolean): string[] {
  const roots = new Set<string>();
  for (const base of bases) {
    let dir = dirname(base);
    while (!exists(dir) && dirname(dir) !== dir) dir = dirname(dir);
    roots.add(dir);
  }
  const sorted = [...roots].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const r of sorted) {
    if (!kept.some((k) => r === k || r.startsWith(k.endsWith(sep) ? k : k + sep))) kept.push(r);
  }
  return kept;
}
