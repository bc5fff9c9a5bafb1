/** The built CLI as a child process, driven like a user drives it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterEach } from 'vitest';
import { waitFor } from './wait.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli.js');

export function tempDir(prefix = 'tracetail-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export class CliProcess {
  readonly logs: LogLine[] = [];
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.stderr += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a JSON log line
        }
      }
    });
    this.exited = new Promise((res) =>
      child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        res(code);
      }),
    );
  }

  /** The address a listener bound (its config key, e.g. "metrics.endpoint"), from the "listening" log line. */
  endpoint(listener: string): string | undefined {
    return this.logs.find((l) => l.msg === 'listening' && l.listener === listener)?.endpoint as string | undefined;
  }

  async waitForEndpoint(listener: string, timeoutMs = 15_000): Promise<string> {
    return waitFor(() => this.endpoint(listener), { timeoutMs, what: `${listener} to listen (stderr: ${this.stderr.slice(-2000)})` });
  }

  async waitForLog(predicate: (l: LogLine) => boolean, timeoutMs = 15_000, what = 'log line'): Promise<LogLine> {
    return waitFor(() => this.logs.find(predicate), { timeoutMs, what });
  }

  get metricsUrl(): string {
    const e = this.endpoint('metrics.endpoint');
    if (!e) throw new Error('metrics endpoint not bound yet');
    return `http://${e}/metrics`;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exitCode === null && this.signal === null) this.child.kill(signal);
  }

  async stop(timeoutMs = 25_000): Promise<number | null> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface StartOptions {
  /** A config object (written as YAML) or YAML text; omitted runs without --config. */
  config?: Record<string, unknown> | string;
  dir?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Node options before the CLI's path, e.g. the V8 flags of the `tracetail` executable (src/node-flags.ts). */
  nodeArgs?: string[];
  /** Run as this user (see `unprivilegedUser`): file modes matter then, as they do not for root. */
  user?: User;
}

export interface User {
  uid: number;
  gid: number;
}

/** nobody (65534): an ordinary user the sidecar can be started as when the tests run as root. */
const NOBODY: User = { uid: 65534, gid: 65534 };

/**
 * The user to start the sidecar as where file permissions must matter (root reads every file):
 * nobody, when the tests run as root (which may start a process as another user and still write
 * to files it made unreadable); undefined otherwise. Its temp dirs must be open to it (`openTo`).
 */
export function unprivilegedUser(): User | undefined {
  return process.getuid?.() === 0 ? NOBODY : undefined;
}

/** Make `dirs` (created when missing) usable by any user: a sidecar started as another user writes its state there. */
export function openTo(...dirs: string[]): void {
  for (const d of dirs) {
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o777);
  }
}

/** Config defaults for tests: every listener on port 0, state in a temp dir, no stray ports. */
export function testConfig(dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    log_level: 'info',
    logs: { include: [join(dir, 'logs/**/*.log')] },
    receivers: { otlp: { http: null, grpc: null, unix: null } },
    metrics: { endpoint: '127.0.0.1:0' },
    debug: { endpoint: null },
    storage: { directory: join(dir, 'state') },
    export: { file: { directory: join(dir, 'export') } },
    shutdown_timeout: '10s',
  };
  return deepMerge(base, extra);
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export function writeConfig(dir: string, config: Record<string, unknown> | string, name = 'tracetail.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : stringify(config), { mode: 0o644 });
  return file;
}

export function spawnCli(args: string[], options: Pick<StartOptions, 'env' | 'cwd' | 'user' | 'nodeArgs'> = {}): CliProcess {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], { cwd: options.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], ...options.user });
  return new CliProcess(child);
}

/** Start `tracetail run` and wait until /metrics is bound. */
export async function startCli(options: StartOptions = {}): Promise<CliProcess> {
  const dir = options.dir ?? tempDir();
  const args = ['run', ...(options.args ?? [])];
  if (options.config !== undefined) args.push('--config', writeConfig(dir, options.config));
  const proc = spawnCli(args, options);
  await Promise.race([
    proc.waitForEndpoint('metrics.endpoint'),
    proc.exited.then((code) => {
      throw new Error(`tracetail exited with ${code} before listening: ${proc.stderr}`);
    }),
  ]);
  return proc;
}

/** Run a CLI command to completion. */
export async function runCli(args: string[], options: Pick<StartOptions, 'env' | 'cwd' | 'user'> & { timeoutMs?: number } = {}) {
  const proc = spawnCli(args, options);
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.stdout, stderr: proc.stderr, logs: proc.logs };
}

/** What an end-to-end test starts: set them, and they are stopped (the CLI first) after each test. */
export function stoppedAfterEach(): { cli?: CliProcess; collector?: { close(): Promise<void> } } {
  const running: { cli?: CliProcess; collector?: { close(): Promise<void> } } = {};
  afterEach(async () => {
    await running.cli?.stop();
    running.cli = undefined;
    await running.collector?.close();
    running.collector = undefined;
  });
  return running;
}
