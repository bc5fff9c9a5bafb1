/**
 * A full export queue, end to end with the built CLI: with the collector down and a 2 MiB
 * `storage.max_queue_bytes`, the OTLP/HTTP receiver refuses with 503/429 and Retry-After, the
 * tailer stops reading (the file's lag grows while the app keeps writing), nothing is counted as
 * dropped; when the collector comes up everything drains: every line written, every span answered
 * 200, the refused spans sent again by the client, and an SDK export that was retrying meanwhile.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../../src/otlp/codec.js';
import { startCli, stoppedAfterEach, tempDir, testConfig } from '../helpers/cli.js';
import { TestCollector } from '../helpers/collector.js';
import { seqOf, tally, traceBatch } from '../helpers/export-harness.js';
import { lineSeq, NumberedLogFile, postOtlp, scrape, sdkExport, sdkExporter, sdkSpans, sumOf } from '../helpers/outage.js';
import { waitFor } from '../helpers/wait.js';

const SPAN_REQUEST = 100;
/** Spans the SDK exports while the queue is full get numbers from here on. */
const SDK_FIRST = 1_000_000;
const SDK_SPANS = 100;

const running = stoppedAfterEach();

describe('a full export queue (built CLI)', () => {
  it('refuses spans with Retry-After, pauses the tailer without dropping, then drains everything', async () => {
    const collector = (running.collector = await TestCollector.start({ down: true }));
    const dir = tempDir('tracetail-queue-full-');
    const log = new NumberedLogFile(join(dir, 'logs', 'app.log'));
    const cli = (running.cli = await startCli({
      dir,
      config: testConfig(dir, {
        logs: { format: 'json' },
        receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } },
        storage: { max_queue_bytes: '2MiB' },
        export: {
          otlp: { endpoint: collector.url, timeout: '5s' },
          batch: { max_items: 2000 },
          retry: { initial_interval: '100ms', max_interval: '1s' },
          breaker: { probe_interval: '300ms' },
        },
        shutdown_timeout: '3s',
      }),
    }));
    const endpoint = await cli.waitForEndpoint('receivers.otlp.http.endpoint');

    // Raw OTLP requests of numbered spans: which got 200, which were refused (to send again).
    let nextSpan = 0;
    const acceptedSpans: number[] = [];
    const refused: number[] = [];
    const refusals: { status: number; retryAfter: string | null }[] = [];
    const sendSpans = async (first: number): Promise<number> => {
      const r = await postOtlp(endpoint, 'traces', encodeRequest('traces', traceBatch(first, SPAN_REQUEST)));
      if (r.status === 200) for (let i = first; i < first + SPAN_REQUEST; i++) acceptedSpans.push(i);
      else refusals.push(r);
      return r.status;
    };
    for (let i = 0; i < 20; i++) {
      expect(await sendSpans(nextSpan)).toBe(200);
      nextSpan += SPAN_REQUEST;
    }

    // The app writes while spans keep coming, until the receiver refuses a request.
    let writing = true;
    const writer = (async () => {
      while (writing) {
        log.append(250);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitFor(
      async () => {
        const status = await sendSpans(nextSpan);
        if (status !== 200) refused.push(nextSpan);
        nextSpan += SPAN_REQUEST;
        return status !== 200;
      },
      { timeoutMs: 30_000, intervalMs: 0, what: 'the OTLP receiver to refuse spans once the queue is full' },
    );
    const refusal = refusals[0];
    console.log(`queue full after ${acceptedSpans.length} spans and ${log.written} lines written: HTTP ${refusal.status}, Retry-After ${refusal.retryAfter}`);
    expect([429, 503]).toContain(refusal.status);
    expect(refusal.retryAfter).toMatch(/^[1-9]\d*$/);

    // An SDK export started now retries on its own (Retry-After) until the queue has room again.
    const sdk = sdkExporter(endpoint, 60_000);
    const sdkResult = sdkExport(sdk, sdkSpans(SDK_FIRST, SDK_SPANS));

    // The tailer is refused too, and stops reading: what the app writes now stays in the file.
    await waitFor(async () => sumOf(await scrape(cli), 'tracetail_export_queue_refusals_total', { signal: 'logs', reason: 'queue_full' }) > 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the tailer to be refused by the full queue',
    });
    const before = await scrape(cli);
    const lagBefore = sumOf(before, 'tracetail_log_file_lag_bytes');
    const bytesBefore = log.bytes;
    await waitFor(() => log.bytes - bytesBefore >= 2 * 1024 * 1024, { timeoutMs: 30_000, what: 'the app to write 2 MiB more' });
    const paused = await waitFor(
      async () => {
        const m = await scrape(cli);
        return sumOf(m, 'tracetail_log_file_lag_bytes') >= lagBefore + (log.bytes - bytesBefore) / 2 ? m : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the log file lag to grow while the queue is full' },
    );
    console.log(
      `tailer paused: lag ${lagBefore} -> ${sumOf(paused, 'tracetail_log_file_lag_bytes')} bytes while the app wrote ${log.bytes - bytesBefore} bytes; ` +
        `queue ${sumOf(paused, 'tracetail_export_queue_bytes')} bytes; refusals ${JSON.stringify({
          logs: sumOf(paused, 'tracetail_export_queue_refusals_total', { signal: 'logs' }),
          traces: sumOf(paused, 'tracetail_export_queue_refusals_total', { signal: 'traces' }),
        })}`,
    );
    expect(sumOf(paused, 'tracetail_export_queue_bytes')).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(sumOf(paused, 'tracetail_export_items_total', { outcome: 'dropped' })).toBe(0);
    expect(collector.requests).toEqual([]);

    // The collector comes back: the backlog drains, the refused spans are sent again.
    writing = false;
    await writer;
    await collector.up();
    while (refused.length > 0) {
      const first = refused[0];
      const r = await postOtlp(endpoint, 'traces', encodeRequest('traces', traceBatch(first, SPAN_REQUEST)));
      if (r.status === 200) {
        refused.shift();
        for (let i = first; i < first + SPAN_REQUEST; i++) acceptedSpans.push(i);
      } else {
        // As a client honouring Retry-After would, but no longer than half a second (test time).
        await new Promise((res) => setTimeout(res, Math.min(Number(r.retryAfter ?? 1) * 1000, 500)));
      }
    }
    const sdkOutcome = await sdkResult;
    await sdk.shutdown();
    expect(sdkOutcome).toEqual({ ok: true, error: undefined });

    // Drained: the file read to its end, the queue empty, as many records out as lines went in.
    await waitFor(
      async () => {
        const m = await scrape(cli);
        return (
          sumOf(m, 'tracetail_log_bytes_read_total') >= log.bytes &&
          sumOf(m, 'tracetail_log_file_lag_bytes') === 0 &&
          sumOf(m, 'tracetail_export_queue_bytes') === 0 &&
          collector.items('logs') >= log.written
        );
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `all ${log.written} lines read and exported` },
    );
    const expectedSpans = new Set([...acceptedSpans, ...Array.from({ length: SDK_SPANS }, (_, i) => SDK_FIRST + i)]);
    await waitFor(() => collector.spans().filter((s) => expectedSpans.has(seqOf(s))).length >= expectedSpans.size, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: `all ${expectedSpans.size} accepted spans at the collector`,
    });

    const lines = tally(collector.logRecords().map(lineSeq), log.written);
    const spanSeqs = collector.spans().map(seqOf);
    const spans = tally(
      spanSeqs.filter((s) => s < SDK_FIRST),
      nextSpan,
    );
    const sdkSeqs = spanSeqs.filter((s) => s >= SDK_FIRST);
    console.log(
      `drained: ${log.written} lines -> ${collector.items('logs')} records (${lines.duplicates} duplicates); ` +
        `${acceptedSpans.length} raw spans (${refusals.length} refused requests sent again) + ${SDK_SPANS} SDK spans -> ${collector.items('traces')} (${spans.duplicates} duplicates)`,
    );
    // A line is one record: no record holds a piece of a line.
    expect(collector.logRecords().filter((r) => Number.isNaN(lineSeq(r))).map((r) => r.body?.stringValue)).toEqual([]);
    expect(lines).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(spans).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(sdkSeqs.length).toBe(SDK_SPANS);
    expect(new Set(sdkSeqs).size).toBe(SDK_SPANS);
    const after = await scrape(cli);
    expect(sumOf(after, 'tracetail_export_items_total', { outcome: 'dropped' })).toBe(0);
  }, 180_000);
});
