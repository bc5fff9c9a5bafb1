/**
 * Inputs and probes for the outage tests of the built CLI: numbered JSON log lines appended to a
 * watched file, numbered spans made and exported by the real OpenTelemetry SDK, and sums of the
 * sidecar's /metrics samples. Every line and span carries its sequence number, so a test can tell
 * which arrived at the collector and how often.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogRecord } from '../../src/otlp/types.js';
import type { CliProcess } from './cli.js';
import { samples } from './metrics-harness.js';

/** Appends numbered JSON lines (`{"msg":"line <n>","seq":<n>,...}`) to one file. */
export class NumberedLogFile {
  /** Lines written so far; the next line is number `written`. */
  written = 0;
  /** Bytes written so far (the file's size). */
  bytes = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, '');
  }

  /** Append `count` lines in one write. */
  append(count: number): void {
    const parts: string[] = [];
    const time = new Date().toISOString();
    for (let i = this.written; i < this.written + count; i++) {
      parts.push(`{"time":"${time}","level":"info","msg":"line ${i}","seq":${i},"component":"checkout","detail":"order processed"}\n`);
    }
    const text = parts.join('');
    appendFileSync(this.path, text);
    this.written += count;
    this.bytes += Buffer.byteLength(text);
  }
}

/** The line number of an exported log record (its body is the message `line <n>`, or the whole JSON line), or NaN. */
export function lineSeq(record: LogRecord): number {
  const m = /^line (\d+)$|^\{.*"msg":"line (\d+)"/.exec(record.body?.stringValue ?? '');
  if (m) return Number(m[1] ?? m[2]);
  return NaN;
}

/** Finished SDK spans numbered `first` .. `first + count - 1` (attribute `seq`). */
export function sdkSpans(first: number, count: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'outage-app' }), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('outage-test', '1.0.0');
  for (let i = first; i < first + count; i++) tracer.startSpan(`op ${i % 10}`, { attributes: { seq: i, 'http.route': '/orders/{id}' } }).end();
  return memory.getFinishedSpans();
}

/** An OTLP/HTTP protobuf exporter of the SDK pointed at the sidecar's receiver. */
export function sdkExporter(endpoint: string, timeoutMillis = 10_000): OTLPTraceExporter {
  return new OTLPTraceExporter({ url: `http://${endpoint}/v1/traces`, timeoutMillis });
}

/** One SDK export; resolves whether it succeeded (after the SDK's own retries), with its error. */
export function sdkExport(exporter: OTLPTraceExporter, spans: ReadableSpan[]): Promise<{ ok: boolean; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans, (r) => resolve({ ok: r.code === ExportResultCode.SUCCESS, error: r.error })));
}

/** The sidecar's /metrics text. */
export async function scrape(cli: CliProcess): Promise<string> {
  const res = await fetch(cli.metricsUrl);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** The sum of the samples of `name` whose labels include `match` (0 when there is none). */
export function sumOf(body: string, name: string, match: Record<string, string> = {}): number {
  return samples(body, name)
    .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** A raw OTLP/HTTP protobuf POST of an encoded request: the answer's status and Retry-After header. */
export async function postOtlp(endpoint: string, signal: 'traces' | 'logs', body: Uint8Array): Promise<{ status: number; retryAfter: string | null }> {
  const res = await fetch(`http://${endpoint}/v1/${signal}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}
