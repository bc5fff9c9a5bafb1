/**
 * Driving the file receiver like an application and its logrotate do: a writer child process
 * (test/fixtures/files/log-writer.mjs) that appends sequence-numbered lines, rotations of every
 * kind (rename-and-create, copytruncate, delete, logrotate itself), and a ledger of the exported
 * records that counts, per writer, which sequence numbers arrived, which are missing and how many
 * arrived more than once.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Signal } from '../../src/otlp/signals.js';
import type { RequestOf } from '../../src/otlp/codec.js';
import type { AnyValue, KeyValue, LogRecord } from '../../src/otlp/types.js';
import { deepMerge, ROOT, startCli, tempDir, testConfig, type CliProcess, type StartOptions } from './cli.js';
import { TestCollector } from './collector.js';
import { waitFor } from './wait.js';

export const WRITER = join(ROOT, 'test/fixtures/files/log-writer.mjs');

export interface WriterOptions {
  file: string;
  format?: 'json' | 'text';
  /** Lines per second; 0 (default): as fast as possible. */
  rate?: number;
  /** Stop after this many lines; 0 (default): until stopped. */
  count?: number;
  /** Name in every line (`w=<name>`), to tell writers apart. */
  name?: string;
  /** Directory where state changes are also acknowledged as files (for logrotate's scripts). */
  control?: string;
}

interface WriterEvent {
  event: 'started' | 'paused' | 'resumed' | 'reopened' | 'done';
  seq: number;
  written?: number;
  pid?: number;
}

/** The writer child process. `seq` is the next sequence number it will write, as last acknowledged. */
export class LogWriter {
  readonly name: string;
  readonly events: WriterEvent[] = [];
  readonly exited: Promise<number | null>;
  private stderr = '';

  private constructor(
    readonly child: ChildProcess,
    readonly options: WriterOptions,
  ) {
    this.name = options.name ?? 'w0';
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l) this.events.push(JSON.parse(l) as WriterEvent);
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((res) => child.on('exit', (code) => res(code)));
  }

  static async start(options: WriterOptions): Promise<LogWriter> {
    const args = [WRITER, '--file', options.file, '--format', options.format ?? 'json', '--rate', String(options.rate ?? 0), '--count', String(options.count ?? 0)];
    args.push('--name', options.name ?? 'w0');
    if (options.control) args.push('--control', options.control);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const w = new LogWriter(child, options);
    await w.waitEvent('started', 0);
    return w;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Lines written so far (as of the last acknowledgement). */
  get written(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  private async waitEvent(event: WriterEvent['event'], after: number): Promise<WriterEvent> {
    return waitFor(() => this.events.slice(after).find((e) => e.event === event), {
      timeoutMs: 10_000,
      intervalMs: 2,
      what: `the writer to acknowledge "${event}" (stderr: ${this.stderr.slice(-1000)})`,
    });
  }

  private async signal(sig: NodeJS.Signals, event: WriterEvent['event']): Promise<WriterEvent> {
    const after = this.events.length;
    this.child.kill(sig);
    return this.waitEvent(event, after);
  }

  /** Stop writing; resolves once no write is in progress. */
  pause(): Promise<WriterEvent> {
    return this.signal('SIGUSR1', 'paused');
  }

  resume(): Promise<WriterEvent> {
    return this.signal('SIGUSR2', 'resumed');
  }

  /** Close the file and open its path again (what an app does on logrotate's postrotate SIGHUP). */
  reopen(): Promise<WriterEvent> {
    return this.signal('SIGHUP', 'reopened');
  }

  /** Resolves once a --count writer has written everything; returns the number of lines. */
  async finished(timeoutMs = 120_000): Promise<number> {
    const done = await waitFor(() => this.events.find((e) => e.event === 'done'), { timeoutMs, what: `the writer to finish (stderr: ${this.stderr.slice(-1000)})` });
    return done.written!;
  }

  /** Stop; returns the number of lines written. */
  async stop(): Promise<number> {
    if (!this.events.some((e) => e.event === 'done')) this.child.kill('SIGTERM');
    const n = await this.finished(10_000);
    await this.exited;
    return n;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// Rotation, the ways it happens in the field.

/** `app.log` → `app.log.<n>`, a new empty `app.log`, the writer reopens (logrotate `create`). */
export async function rotateRenameCreate(path: string, writer: LogWriter, n: number): Promise<void> {
  renameSync(path, `${path}.${n}`);
  writeFileSync(path, '');
  await writer.reopen();
}

/**
 * copytruncate as logrotate does it: copy to `app.log.<n>`, truncate `app.log` to 0. The writer is
 * paused around the copy and the truncate (lines written in between are lost by design).
 */
export async function rotateCopyTruncate(path: string, writer: LogWriter, n: number): Promise<void> {
  await writer.pause();
  try {
    copyFileSync(path, `${path}.${n}`);
    truncateSync(path, 0);
  } finally {
    await writer.resume();
  }
}

/**
 * The file is deleted while the writer still writes to it (its last lines go to the unlinked
 * inode); then the writer reopens the path, which creates a new file.
 */
export async function rotateDelete(path: string, writer: LogWriter): Promise<void> {
  rmSync(path);
  await writer.reopen();
}

export type LogrotateMode = 'create' | 'copytruncate' | 'compress';

/**
 * A logrotate config for `path` written by `writer` (which must run with `control` set): `create`
 * renames and sends SIGHUP in postrotate; `copytruncate` pauses the writer in prerotate (waiting for
 * its acknowledgement) and resumes it in postrotate; `compress` is `create` with `compress` +
 * `delaycompress`. `rotate 5` unless `keep` says otherwise, so older files are deleted while the
 * sidecar may hold them (or, when it lags far behind, before it read them: then no one can).
 */
export function logrotateConfig(dir: string, path: string, writer: LogWriter, mode: LogrotateMode, keep = 5): string {
  const control = writer.options.control;
  if (!control) throw new Error('the writer needs a control directory for logrotate scripts');
  const waitFor = (event: string) => `while [ ! -e ${control}/${event} ]; do sleep 0.005; done`;
  const body =
    mode === 'copytruncate'
      ? [
          'copytruncate',
          'nocompress',
          'prerotate',
          `  rm -f ${control}/paused; kill -USR1 ${writer.pid}; ${waitFor('paused')}`,
          'endscript',
          'postrotate',
          `  rm -f ${control}/resumed; kill -USR2 ${writer.pid}; ${waitFor('resumed')}`,
          'endscript',
        ]
      : [
          'create 0644',
          ...(mode === 'compress' ? ['compress', 'delaycompress'] : ['nocompress']),
          'postrotate',
          `  rm -f ${control}/reopened; kill -HUP ${writer.pid}; ${waitFor('reopened')}`,
          'endscript',
        ];
  const text = [`${path} {`, `  rotate ${keep}`, '  missingok', '  ifempty', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
  const conf = join(dir, `logrotate-${mode}.conf`);
  writeFileSync(conf, text, { mode: 0o644 });
  return conf;
}

/** `logrotate -f -s <state> <conf>`: one forced rotation. */
export function runLogrotate(conf: string, state: string): void {
  execFileSync('logrotate', ['-f', '-s', state, conf], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
}

// ---------------------------------------------------------------------------------------------
// What arrived.

const LINE_ID = /w=(\S+) seq=(\d+)/;

/** Lines `from`..`to`-1 of writer `name`, as the ledger reads them (`w=<name> seq=<n> ...`). */
export function lines(name: string, from: number, to: number, end = '\n'): string {
  let s = '';
  for (let i = from; i < to; i++) s += `w=${name} seq=${i} the quick brown fox${end}`;
  return s;
}

export interface ExportedLine {
  writer: string;
  seq: number;
  record: LogRecord;
}

export function stringAttribute(attributes: readonly KeyValue[] | null | undefined, key: string): string | undefined {
  const v = attributes?.find((a) => a.key === key)?.value as AnyValue | undefined;
  return v?.stringValue ?? undefined;
}

export function boolAttribute(attributes: readonly KeyValue[] | null | undefined, key: string): boolean | undefined {
  const v = attributes?.find((a) => a.key === key)?.value as AnyValue | undefined;
  return v?.boolValue ?? undefined;
}

export function bodyOf(record: LogRecord): string {
  return (record.body as AnyValue | undefined)?.stringValue ?? '';
}

/** Counts of each (writer, sequence number) seen in the exported records, fed incrementally. */
export class LineLedger {
  private readonly counts = new Map<string, number[]>();
  /** Records whose body carries no `w=… seq=…` (edge-case tests look at them directly). */
  readonly others: LogRecord[] = [];
  records = 0;

  add(records: Iterable<LogRecord>): void {
    for (const record of records) {
      this.records++;
      const m = LINE_ID.exec(bodyOf(record));
      if (!m) {
        this.others.push(record);
        continue;
      }
      let c = this.counts.get(m[1]);
      if (!c) this.counts.set(m[1], (c = []));
      const seq = Number(m[2]);
      c[seq] = (c[seq] ?? 0) + 1;
    }
  }

  /** How many distinct sequence numbers of `writer` below `total` arrived. */
  distinct(writer: string, total: number): number {
    const c = this.counts.get(writer) ?? [];
    let n = 0;
    for (let i = 0; i < total; i++) if (c[i]) n++;
    return n;
  }

  /** Missing sequence numbers below `total` as ranges "a-b" (for failure messages). */
  missingRanges(writer: string, total: number, max = 30): string[] {
    const c = this.counts.get(writer) ?? [];
    const out: string[] = [];
    for (let i = 0; i < total && out.length < max; i++) {
      if (c[i]) continue;
      let j = i;
      while (j + 1 < total && !c[j + 1]) j++;
      out.push(i === j ? `${i}` : `${i}-${j}`);
      i = j;
    }
    return out;
  }

  /** Whether any sequence number of `writer` from `from` on (below `to`) arrived. */
  anyIn(writer: string, from: number, to = Infinity): boolean {
    const c = this.counts.get(writer) ?? [];
    for (let i = from; i < Math.min(to, c.length); i++) if (c[i]) return true;
    return false;
  }

  /** Missing sequence numbers (the first 20, and how many), duplicates, numbers beyond `total`. */
  tally(writer: string, total: number): { missing: number; firstMissing: number[]; duplicates: number; beyond: number } {
    const c = this.counts.get(writer) ?? [];
    const firstMissing: number[] = [];
    let missing = 0;
    let duplicates = 0;
    for (let i = 0; i < total; i++) {
      const n = c[i] ?? 0;
      if (n === 0) {
        missing++;
        if (firstMissing.length < 20) firstMissing.push(i);
      } else duplicates += n - 1;
    }
    let beyond = 0;
    for (let i = total; i < c.length; i++) beyond += c[i] ?? 0;
    return { missing, firstMissing, duplicates, beyond };
  }
}

/** Feeds a ledger from the test collector's accepted log requests, each request once. */
export class CollectorFeed {
  readonly ledger = new LineLedger();
  private next = 0;

  constructor(readonly collector: TestCollector) {}

  /** Take the requests that arrived since the last call; returns the ledger. */
  poll(): LineLedger {
    const reqs = this.collector.requests;
    for (; this.next < reqs.length; this.next++) {
      const r = reqs[this.next];
      if (r.signal !== 'logs' || typeof r.outcome !== 'number' || r.outcome < 200 || r.outcome >= 300 || !r.body) continue;
      const body = r.body as RequestOf['logs'];
      for (const rl of body.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) this.ledger.add(sl.logRecords ?? []);
    }
    return this.ledger;
  }

  /** Wait until every line 0..total-1 of `writer` arrived at least once. */
  async waitForAll(writer: string, total: number, timeoutMs = 60_000): Promise<LineLedger> {
    try {
      return await waitFor(() => (this.poll().distinct(writer, total) === total ? this.ledger : undefined), { timeoutMs, intervalMs: 100, what: `all ${total} lines of ${writer}` });
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(this.poll().tally(writer, total))}, missing ${this.ledger.missingRanges(writer, total).join(' ')}`);
    }
  }
}

/**
 * Every log record the file exporter wrote to `dir` (`logs.jsonl` and its rotated
 * `logs-<timestamp>.jsonl`), oldest file first. A last line without its newline (a write cut by a
 * crash) is skipped.
 */
export function readExportedFiles(dir: string, signal: Signal = 'logs'): LogRecord[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${signal}-`) && f.endsWith('.jsonl'))
    .sort();
  if (existsSync(join(dir, `${signal}.jsonl`))) files.push(`${signal}.jsonl`);
  const out: LogRecord[] = [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const line of text.split('\n').slice(0, -1)) {
      if (!line) continue;
      const req = JSON.parse(line) as { resourceLogs?: { scopeLogs?: { logRecords?: LogRecord[] }[] }[] };
      for (const rl of req.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) out.push(...(sl.logRecords ?? []));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A sidecar tailing `<dir>/logs`, exporting to a test collector.

/** A temp dir with `logs/` (tailed), `control/` (the writer's signal files) and the app's log path. */
export function appDirs(prefix: string): { dir: string; logs: string; control: string; path: string } {
  const dir = tempDir(prefix);
  const logs = join(dir, 'logs');
  const control = join(dir, 'control');
  mkdirSync(logs);
  mkdirSync(control);
  return { dir, logs, control, path: join(logs, 'app.log') };
}

/** The sidecars and the collector a test started, all stopped by `stop()` (in afterEach). */
export class Started {
  private readonly procs: CliProcess[] = [];
  private started: TestCollector | undefined;

  /** A test collector, started for this test. */
  async collector(): Promise<TestCollector> {
    this.started = await TestCollector.start();
    return this.started;
  }

  async cli(options: StartOptions): Promise<CliProcess> {
    const p = await startCli(options);
    this.procs.push(p);
    return p;
  }

  async stop(): Promise<void> {
    for (const p of this.procs.splice(0)) await p.stop();
    await this.started?.close();
    this.started = undefined;
  }
}

/** Config for the built CLI tailing `<dir>/logs/**\/*.log` and exporting to `endpoint`, quickly. */
export function tailConfig(dir: string, endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return deepMerge(
    testConfig(dir, {
      export: {
        otlp: { endpoint, compression: 'none' },
        batch: { timeout: '50ms' },
        retry: { initial_interval: '50ms', max_interval: '500ms' },
      },
      shutdown_timeout: '10s',
    }),
    extra,
  );
}

/** The value of a metric series in Prometheus text (0 when absent). */
export async function scrape(proc: CliProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(proc.metricsUrl)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}
