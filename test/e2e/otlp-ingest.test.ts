/**
 * The built CLI as a child process: spans and log records from the OpenTelemetry SDK exporters
 * over OTLP/HTTP on TCP, on the Unix socket and over gRPC come out of the file exporter unchanged;
 * the receiver metrics count them and pass promtool; a gzip bomb is refused with 413 without the
 * sidecar's peak RSS growing by 50 MiB; SIGTERM removes the socket and exits 0.
 */
import * as grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type HrTime } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { request, UnixSocketAgent } from '../integration/otlp/harness.js';

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

const ns = (t: HrTime) => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

function exportedLines(dir: string, signal: string): Record<string, unknown>[] {
  const file = join(dir, 'export', `${signal}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function exportedSpans(dir: string): JsonSpan[] {
  return exportedLines(dir, 'traces').flatMap((req) =>
    (req.resourceSpans as { scopeSpans: { spans: JsonSpan[] }[] }[]).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)),
  );
}

function peakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmHWM in /proc/<pid>/status');
  return Number(m[1]);
}

async function exportSpans(exporter: { export: GrpcExporter['export']; shutdown(): Promise<void> }, spans: ReadableSpan[]): Promise<void> {
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  if (result.code !== 0) throw new Error(`export failed: ${result.error?.message}`);
}

describe('tracetail run: OTLP in, file exporter out', () => {
  let dir: string;
  let cli: CliProcess;
  let socket: string;
  const spans: ReadableSpan[] = [];

  beforeAll(async () => {
    dir = tempDir();
    socket = join(dir, 'run', 'otlp.sock');
    cli = await startCli({
      dir,
      config: testConfig(dir, { receivers: { otlp: { http: { endpoint: '127.0.0.1:0' }, grpc: { endpoint: '127.0.0.1:0' }, unix: { path: socket, mode: '0640' } } } }),
    });
    for (const key of ['receivers.otlp.http.endpoint', 'receivers.otlp.unix.path', 'receivers.otlp.grpc.endpoint']) await cli.waitForEndpoint(key);

    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'e2e-app' }), spanProcessors: [new SimpleSpanProcessor(memory)] });
    const tracer = provider.getTracer('e2e', '1.0.0');
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    for (let i = 0; i < 9; i++) {
      const s = tracer.startSpan(`op-${i}`, { kind: SpanKind.SERVER, startTime: [1_750_000_000 + i, 123_456_789], attributes: { i, ratio: i + 0.5, tag: `t${i}` } }, parent);
      s.end([1_750_000_000 + i, 987_654_321]);
    }
    spans.push(...memory.getFinishedSpans());
  });

  afterAll(async () => {
    await cli?.stop();
  });

  it('logs the listener lines and creates the socket with the configured mode', async () => {
    expect(cli.endpoint('receivers.otlp.http.endpoint')).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(cli.endpoint('receivers.otlp.grpc.endpoint')).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(cli.endpoint('receivers.otlp.unix.path')).toBe(socket);
    expect(lstatSync(socket).mode & 0o777).toBe(0o640);
  });

  it('exports every span received over TCP, the Unix socket and gRPC, field for field', async () => {
    const http = cli.endpoint('receivers.otlp.http.endpoint')!;
    await exportSpans(new ProtoExporter({ url: `http://${http}/v1/traces`, compression: 'gzip' as never }), spans.slice(0, 3));
    await exportSpans(new JsonExporter({ url: 'http://localhost/v1/traces', httpAgentOptions: () => new UnixSocketAgent(socket) }), spans.slice(3, 6));
    await exportSpans(new GrpcExporter({ url: `http://${cli.endpoint('receivers.otlp.grpc.endpoint')}`, credentials: grpc.credentials.createInsecure() }), spans.slice(6));

    const out = await waitFor(() => (exportedSpans(dir).length >= spans.length ? exportedSpans(dir) : undefined), { timeoutMs: 20_000, what: 'the spans in export/traces.jsonl' });
    expect(out).toHaveLength(spans.length);
    const byId = new Map(out.map((s) => [s.spanId, s]));
    for (const s of spans) {
      const got = byId.get(s.spanContext().spanId)!;
      expect(got).toMatchObject({
        traceId: s.spanContext().traceId,
        parentSpanId: 'b7ad6b7169203331',
        name: s.name,
        kind: 2,
        startTimeUnixNano: ns(s.startTime),
        endTimeUnixNano: ns(s.endTime),
      });
      const i = Number(s.attributes.i);
      expect(got.attributes).toEqual([
        { key: 'i', value: { intValue: String(i) } },
        { key: 'ratio', value: { doubleValue: i + 0.5 } },
        { key: 'tag', value: { stringValue: `t${i}` } },
      ]);
    }
  });

  it('takes log records into the logs pipeline and exports them', async () => {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'e2e-app' }), processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
    provider.getLogger('e2e-logs').emit({ body: { msg: 'hello', n: 9007199254740991 }, severityText: 'WARN', severityNumber: 13, timestamp: [1_750_000_000, 1] });
    await provider.forceFlush();
    const exporter = new OTLPLogExporter({ url: 'http://localhost/v1/logs', httpAgentOptions: () => new UnixSocketAgent(socket) });
    const result = await new Promise<{ code: number }>((resolve) => exporter.export(memory.getFinishedLogRecords(), resolve));
    await exporter.shutdown();
    expect(result.code).toBe(0);
    const lines = await waitFor(() => (exportedLines(dir, 'logs').length > 0 ? exportedLines(dir, 'logs') : undefined), { timeoutMs: 20_000, what: 'export/logs.jsonl' });
    const text = JSON.stringify(lines);
    expect(text).toContain('"timeUnixNano":"1750000000000000001"');
    expect(text).toContain('{"key":"n","value":{"intValue":"9007199254740991"}}');
    expect(text).toContain('"severityText":"WARN"');
  });

  it('counts requests and spans per transport, and the output passes promtool', async () => {
    const metrics = await (await fetch(cli.metricsUrl)).text();
    expect(metrics).toContain('tracetail_spans_received_total{transport="http"} 3');
    expect(metrics).toContain('tracetail_spans_received_total{transport="unix"} 3');
    expect(metrics).toContain('tracetail_spans_received_total{transport="grpc"} 3');
    expect(metrics).toContain('tracetail_otlp_requests_total{transport="unix",signal="logs",code="200"} 1');
    expect(metrics).toContain('tracetail_otlp_requests_total{transport="grpc",signal="traces",code="OK"} 1');
    expect(metrics).toMatch(/tracetail_otlp_request_size_bytes_count\{transport="http",signal="traces"\} 1\n/);
    if (!requireTool('promtool')) return;
    const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    expect({ status: check.status, output: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });

  it('refuses a gzip bomb (1 GiB of zeros) with 413 without inflating it into memory', async () => {
    const http = cli.endpoint('receivers.otlp.http.endpoint')!;
    const gz = zlib.createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gz.on('data', (c: Buffer) => parts.push(c));
    const zeros = Buffer.alloc(1 << 20);
    for (let i = 0; i < 1024; i++) if (!gz.write(zeros)) await once(gz, 'drain');
    gz.end();
    await once(gz, 'end');
    const bomb = Buffer.concat(parts);
    expect(bomb.length).toBeLessThan(2 << 20);

    const headers = { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' };
    const pid = cli.child.pid!;
    const before = peakRssKiB(pid);
    const res = await request(http, { path: '/v1/traces', headers, body: bomb });
    expect(res.status).toBe(413);
    const growthMiB = (peakRssKiB(pid) - before) / 1024;
    expect(growthMiB).toBeLessThan(50);
    // and the next request is served
    const good = await request(http, { path: '/v1/traces', headers, body: zlib.gzipSync(Buffer.alloc(0)) });
    expect(good.status).toBe(200);
  });

  it('removes the socket and exits 0 on SIGTERM', async () => {
    expect(await cli.stop()).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });
});
