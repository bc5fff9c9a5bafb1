/** The instrumented fixture app (test/fixtures/apps/pino-otel-app.mjs) as a child process. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const PINO_OTEL_APP = join(ROOT, 'test/fixtures/apps/pino-otel-app.mjs');

/** What the app says it did (its one line on stdout). */
export interface AppSummary {
  service: string;
  traces: { traceId: string; spans: string[]; logs: number }[];
  unsampledTraces: { traceId: string; spans: string[]; logs: number }[];
  logsWithContext: number;
  logsWithoutContext: number;
  unmatchedLogs: number;
  errorLogs: number;
}

/** Runs the app to its end with `env` (LOG_FILE, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, ...). */
export function runPinoOtelApp(env: Record<string, string>): Promise<AppSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PINO_OTEL_APP], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as AppSummary) : reject(new Error(`app exited ${code}: ${err}`))));
  });
}
