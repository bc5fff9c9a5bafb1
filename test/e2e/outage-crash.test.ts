/**
 * The delivery promise across an outage and a crash, end to end with the built CLI: while the
 * collector is down, 100,000 lines are written to a watched file and 20,000 spans are exported by
 * the real OpenTelemetry SDK; once the sidecar has taken everything (every SDK export succeeded,
 * the file's lag is 0) it is killed with SIGKILL, started again on the same state directory, and
 * the collector comes up: every line and every span arrives, duplicates are counted and bounded.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { TestCollector } from '../helpers/collector.js';
import { seqOf, tally } from '../helpers/export-harness.js';
import { lineSeq, NumberedLogFile, scrape, sdkExport, sdkExporter, sdkSpans, sumOf } from '../helpers/outage.js';
import { waitFor } from '../helpers/wait.js';

const LINES = 100_000;
const SPANS = 20_000;
const SPAN_REQUEST = 200;
const SDK_IN_FLIGHT = 4;
/** export.batch.max_items: at most this many items of a signal are in flight at a crash. */
const EXPORT_BATCH = 2000;

let collector: TestCollector | undefined;
const procs: CliProcess[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) await p.stop();
  await collector?.close();
  collector = undefined;
});

async function start(dir: string, config: Record<string, unknown>): Promise<CliProcess> {
  const p = await startCli({ dir, config });
  procs.push(p);
  return p;
}

/** What a SIGKILLed sidecar left in its store: queued items per signal. */
function leftInQueue(dir: string): { logs: number; traces: number } {
  const store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 30 });
  try {
    return { logs: store.queueStats('logs').items, traces: store.queueStats('traces').items };
  } finally {
    store.close();
  }
}

describe('outage, then SIGKILL, then restart (built CLI)', () => {
  it('every line written and every span acknowledged during the outage arrives after the restart, duplicates bounded', async () => {
    collector = await TestCollector.start({ down: true });
    const dir = tempDir('tracetail-outage-crash-');
    const log = new NumberedLogFile(join(dir, 'logs', 'app.log'));
    const config = testConfig(dir, {
      logs: { format: 'json' },
      receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } },
      export: {
        otlp: { endpoint: collector.url, timeout: '5s' },
        batch: { max_items: EXPORT_BATCH },
        retry: { initial_interval: '100ms', max_interval: '1s' },
        breaker: { probe_interval: '300ms' },
      },
      shutdown_timeout: '3s',
    });
    const first = await start(dir, config);
    const endpoint = await first.waitForEndpoint('receivers.otlp.http.endpoint');

    // Lines and spans at the same time, as an app under load produces them.
    const writing = (async () => {
      while (log.written < LINES) {
        log.append(Math.min(5000, LINES - log.written));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const spans = sdkSpans(0, SPANS);
    const exporter = sdkExporter(endpoint);
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: SDK_IN_FLIGHT }, async () => {
        while (next < SPANS) {
          const chunk = spans.slice(next, next + SPAN_REQUEST);
          next += SPAN_REQUEST;
          const r = await sdkExport(exporter, chunk);
          if (!r.ok) failures.push(r.error?.message ?? 'failed');
        }
      }),
    );
    await exporter.shutdown();
    await writing;
    expect(failures).toEqual([]);

    // Every line is taken once the file's lag is 0 and all its bytes were read.
    await waitFor(
      async () => {
        const m = await scrape(first);
        return sumOf(m, 'tracetail_log_bytes_read_total') >= log.bytes && sumOf(m, 'tracetail_log_file_lag_bytes') === 0;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `the sidecar to read all ${log.bytes} bytes of the log file` },
    );
    expect(collector.requests).toEqual([]);

    first.kill('SIGKILL');
    await first.exited;
    expect(first.signal).toBe('SIGKILL');
    const left = leftInQueue(dir);
    console.log(`at the kill: ${left.logs} log records and ${left.traces} spans in the on-disk queue`);
    expect(left).toEqual({ logs: LINES, traces: SPANS });

    const second = await start(dir, config);
    await collector.up();
    await waitFor(() => tally(collector!.logRecords().map(lineSeq), LINES).missing.length === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `every line at the collector`,
    });
    await waitFor(() => tally(collector!.spans().map(seqOf), SPANS).missing.length === 0, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: `every span at the collector`,
    });

    const lines = tally(collector.logRecords().map(lineSeq), LINES);
    const spansAt = tally(collector.spans().map(seqOf), SPANS);
    console.log(
      `after SIGKILL and restart: ${LINES} lines -> ${collector.items('logs')} log records (${lines.duplicates} duplicates), ` +
        `${SPANS} spans -> ${collector.items('traces')} (${spansAt.duplicates} duplicates), ` +
        `${collector.accepted('logs').length + collector.accepted('traces').length} export requests ` +
        `(largest: ${Math.max(...collector.accepted('logs').map((r) => r.items))} log records, ${Math.max(...collector.accepted('traces').map((r) => r.items))} spans)`,
    );
    expect(lines.unexpected).toEqual([]);
    expect(spansAt.unexpected).toEqual([]);
    expect(lines.duplicates).toBeLessThanOrEqual(EXPORT_BATCH);
    expect(spansAt.duplicates).toBe(0);
    const m = await scrape(second);
    expect(sumOf(m, 'tracetail_export_items_total', { outcome: 'dropped' })).toBe(0);
    expect(sumOf(m, 'tracetail_export_items_total', { outcome: 'rejected' })).toBe(0);
  }, 120_000);
});
