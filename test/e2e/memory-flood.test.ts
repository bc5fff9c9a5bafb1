/**
 * The memory limiter under a flood, end to end with the built CLI (SPEC §6: "RSS stays within
 * limits.memory_mib plus 20% under any flood"): `limits.memory_mib: 128`, the collector down so
 * the queue fills, and 4 clients posting OTLP/HTTP protobuf trace requests on keep-alive
 * connections as fast as they are answered for 30 s, in SDK-sized batches (500 spans) with
 * larger ones (5,000 spans) and some near `limits.max_request_bytes`. The CLI's resident set is
 * read from /proc every 200 ms (and its peak, VmHWM, at the end). Every answer must be 200, 429
 * or 503 (the refusals with Retry-After), no connection may fail, and afterwards an export of the
 * real OpenTelemetry SDK is taken and, once the collector is up, every span answered 200 arrives
 * (by its id) and no span that was refused does.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { spanNumber } from '../../bench/lib/ids.mjs';
import { traceRequestTemplate } from '../../bench/lib/web-trace.mjs';
import type { RequestOf } from '../../src/otlp/codec.js';
import { startCli, stoppedAfterEach, tempDir, testConfig } from '../helpers/cli.js';
import { TestCollector } from '../helpers/collector.js';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { seqOf } from '../helpers/export-harness.js';
import { scrape, sdkExport, sdkExporter, sdkSpans, sumOf } from '../helpers/outage.js';
import { waitFor } from '../helpers/wait.js';

const MIB = 1024 * 1024;
const LIMIT_MIB = 128;
/** The delivery promise's bound. */
const BOUND_BYTES = LIMIT_MIB * MIB * 1.2;
const MAX_REQUEST_BYTES = 8 * MIB;
const CLIENTS = 4;
const FLOOD_MS = 30_000;
const SAMPLE_MS = 200;
/** SDK spans carry `seq` numbers from here (their ids are the SDK's own, random). */
const SDK_FIRST = 1_000_000_000;
const SDK_SPANS = 200;

const running = stoppedAfterEach();

function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

interface Answer {
  status: number;
  retryAfter?: string;
  error?: string;
}

function post(agent: http.Agent, endpoint: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request(`http://${endpoint}/v1/traces`, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      res.on('error', (err) => resolve({ status: 0, error: `response: ${err.message}` }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, error: err.code ?? err.message }));
    req.end(body);
  });
}

/** How often each span number arrived at the collector; SDK spans by their `seq`. */
class Arrivals {
  counts = new Uint8Array(0);
  readonly sdk = new Set<number>();
  foreign = 0;

  add(body: RequestOf['traces']): void {
    for (const rs of body.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const span of ss.spans ?? []) {
          const n = spanNumber(span.spanId);
          if (n >= 0 && n < this.counts.length) this.counts[n] = Math.min(255, this.counts[n] + 1);
          else if (seqOf(span) >= SDK_FIRST) this.sdk.add(seqOf(span));
          else this.foreign++;
        }
  }
}

describe('the memory limiter under a flood (built CLI, 30 s)', () => {
  it('keeps RSS within limits.memory_mib + 20%, answers only 200/429/503, and delivers every span it took', async () => {
    const arrivals = new Arrivals();
    const collector = (running.collector = await TestCollector.start({ down: true, onAccepted: (signal, body) => signal === 'traces' && arrivals.add(body as RequestOf['traces']) }));
    const dir = tempDir('tracetail-memory-flood-');
    const cli = (running.cli = await startCli({
      dir,
      // As the `tracetail` executable runs.
      nodeArgs: [...NODE_FLAGS],
      config: testConfig(dir, {
        logs: { include: [] },
        receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } },
        limits: { memory_mib: LIMIT_MIB, max_request_bytes: MAX_REQUEST_BYTES },
        storage: { max_queue_bytes: '48MiB' },
        export: { otlp: { endpoint: collector.url, timeout: '5s' }, retry: { initial_interval: '100ms', max_interval: '1s' }, breaker: { probe_interval: '300ms' } },
      }),
    }));
    const endpoint = await cli.waitForEndpoint('receivers.otlp.http.endpoint');
    const pid = cli.child.pid!;

    // Request shapes: SDK-sized batches of 500 spans, larger ones of 5,000, and ones just under the
    // body limit. The larger ones are small requests stamped one after the other and concatenated
    // (in protobuf, concatenated requests are one request holding all their resource spans).
    const template = traceRequestTemplate(500);
    const shape = (pieces: number) => ({ spans: pieces * 500, bytes: pieces * template.bytes.length });
    const small = shape(1);
    const medium = shape(10);
    const large = shape(Math.floor((MAX_REQUEST_BYTES * 0.95) / template.bytes.length));
    expect(large.bytes).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(large.bytes).toBeGreaterThan(MAX_REQUEST_BYTES * 0.85);
    const stamp = (first: number, spans: number) => {
      const now = Date.now();
      const parts: Buffer[] = [];
      for (let j = first; j < first + spans; j += 500) parts.push(template.stamp(j, now));
      return parts.length === 1 ? parts[0] : Buffer.concat(parts);
    };
    // A client's cycle of 10 requests: 6 small, 3 medium, 1 large (most bytes are in large ones).
    const cycle = [small, medium, small, small, large, small, medium, small, small, medium];

    const rss: number[] = [];
    const sampler = setInterval(() => {
      try {
        rss.push(procStatusBytes(pid, 'VmRSS'));
      } catch {
        // the process is gone; the test fails on its answers
      }
    }, SAMPLE_MS);

    const statuses = new Map<number, number>();
    const socketErrors: string[] = [];
    const withoutRetryAfter: number[] = [];
    const accepted: [first: number, count: number][] = [];
    let next = 0;
    let requests = 0;
    let bytesSent = 0;
    const floodEnd = Date.now() + FLOOD_MS;
    const client = async (k: number) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = k * 3; Date.now() < floodEnd; i++) {
          const t = cycle[i % cycle.length];
          const first = next;
          next += t.spans;
          const body = stamp(first, t.spans);
          const a = await post(agent, endpoint, body);
          requests++;
          bytesSent += body.length;
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
          if (a.status === 200) accepted.push([first, t.spans]);
          else if (a.status === 0) socketErrors.push(a.error ?? 'unknown');
          else if ((a.status === 429 || a.status === 503) && !/^[1-9]\d*$/.test(a.retryAfter ?? '')) withoutRetryAfter.push(a.status);
        }
      } finally {
        agent.destroy();
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
    const floodSeconds = (Date.now() - t0) / 1000;
    const afterFlood = await scrape(cli);

    // Good data still flows: an SDK export now (retrying on its own while the queue is full) is
    // taken once the collector is up, and everything answered 200 arrives.
    arrivals.counts = new Uint8Array(next);
    const sdk = sdkExporter(endpoint, 60_000);
    const sdkResult = sdkExport(sdk, sdkSpans(SDK_FIRST, SDK_SPANS));
    await collector.up();
    const sdkOutcome = await sdkResult;
    await sdk.shutdown();
    const acceptedSpans = accepted.reduce((n, [, c]) => n + c, 0);
    const missing = () => {
      let m = 0;
      for (const [first, count] of accepted) for (let j = first; j < first + count; j++) if (arrivals.counts[j] === 0) m++;
      return m;
    };
    // What the sidecar answered the SDK (its requests are the only ones after the flood).
    const afterSdk = await scrape(cli);
    const sdkAnswers = Object.fromEntries(
      [200, 429, 503].map((code) => [code, sumOf(afterSdk, 'tracetail_otlp_requests_total', { code: String(code) }) - sumOf(afterFlood, 'tracetail_otlp_requests_total', { code: String(code) })]),
    );
    const sdkText = `SDK export ${sdkOutcome.ok ? 'taken' : `failed (${sdkOutcome.error?.message})`}, answers ${JSON.stringify(sdkAnswers)}; memory after the flood: ${cli.logs
      .filter((l) => l.component === 'memory' || /memory limit/.test(l.msg))
      .slice(-2)
      .map((l) => l.msg)
      .join(' | ')}`;
    await waitFor(() => (arrivals.sdk.size >= SDK_SPANS || !sdkOutcome.ok) && missing() === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `the ${acceptedSpans} spans answered 200 and ${SDK_SPANS} SDK spans at the collector`,
    }).catch(async (err: Error) => {
      const m = await scrape(cli);
      throw new Error(
        `${err.message}: ${missing()} missing, SDK ${arrivals.sdk.size}, collector requests ${collector.requests.length} (${JSON.stringify(collector.requests.slice(-3).map((r) => r.outcome))}), ` +
          `queue ${sumOf(m, 'tracetail_export_queue_bytes')} B, export ${JSON.stringify(['sent', 'retried', 'rejected', 'dropped'].map((o) => sumOf(m, 'tracetail_export_items_total', { signal: 'traces', outcome: o })))}; ` +
          `CLI log: ${cli.logs.filter((l) => l.level !== 'info').slice(-5).map((l) => l.msg).join(' | ')}`,
      );
    });
    clearInterval(sampler);
    const peak = procStatusBytes(pid, 'VmHWM');

    let delivered = 0;
    let duplicates = 0;
    for (const c of arrivals.counts) {
      if (c > 0) delivered++;
      if (c > 1) duplicates += c - 1;
    }
    const maxRss = Math.max(...rss);
    const mib = (b: number) => (b / MIB).toFixed(1);
    console.log(
      `flood ${floodSeconds.toFixed(1)} s: ${requests} requests (${mib(bytesSent)} MiB; ${small.bytes}, ${medium.bytes} and ${large.bytes} B), ` +
        `answers ${JSON.stringify(Object.fromEntries(statuses))}, ${socketErrors.length} socket errors; ` +
        `RSS max ${mib(maxRss)} MiB over ${rss.length} samples, peak (VmHWM) ${mib(peak)} MiB, bound ${mib(BOUND_BYTES)} MiB; ` +
        `refusals at the queue ${JSON.stringify({ memory_limit: sumOf(afterFlood, 'tracetail_export_queue_refusals_total', { reason: 'memory_limit' }), queue_full: sumOf(afterFlood, 'tracetail_export_queue_refusals_total', { reason: 'queue_full' }) })}; ` +
        `${acceptedSpans} spans answered 200, ${delivered} delivered (${duplicates} duplicates, ${arrivals.foreign} foreign), SDK ${arrivals.sdk.size}/${SDK_SPANS}; ${sdkText}`,
    );

    expect(rss.length).toBeGreaterThan((FLOOD_MS / SAMPLE_MS) * 0.5);
    expect(maxRss).toBeLessThanOrEqual(BOUND_BYTES);
    expect(peak).toBeLessThanOrEqual(BOUND_BYTES);
    expect(socketErrors).toEqual([]);
    expect([...statuses.keys()].filter((s) => s !== 200 && s !== 429 && s !== 503)).toEqual([]);
    expect(withoutRetryAfter).toEqual([]);
    // The flood was one: the sidecar pushed back, and still took some of it.
    expect((statuses.get(429) ?? 0) + (statuses.get(503) ?? 0)).toBeGreaterThan(0);
    expect(acceptedSpans).toBeGreaterThan(0);
    expect(sdkOutcome.ok, sdkText).toBe(true);
    expect(arrivals.sdk.size).toBe(SDK_SPANS);
    // Everything answered 200 arrived; nothing refused did (a refused request keeps nothing).
    expect(missing()).toBe(0);
    expect(delivered).toBe(acceptedSpans);
    expect(arrivals.foreign).toBe(0);
  }, 150_000);
});
