import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { context } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import Long from 'long';
import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../../../src/component.js';
import { MemoryLimitError } from '../../../../src/errors.js';
import { QueueWriter } from '../../../../src/exporters/queue-writer.js';
import { createLogger } from '../../../../src/logger.js';
import { Telemetry } from '../../../../src/metrics/telemetry.js';
import type { LogRecord, Span } from '../../../../src/otlp/types.js';
import { keyValue } from '../../../../src/otlp/values.js';
import type { LogBatch } from '../../../../src/pipeline/batches.js';
import { LogSampler, SAMPLING_DECISIONS } from '../../../../src/processors/sampling/log-sampler.js';
import { ratioSamples, ratioUpperBound } from '../../../../src/processors/sampling/trace-id-ratio.js';
import { Store } from '../../../../src/storage/store.js';
import { tempDir } from '../../../helpers/cli.js';
import { waitFor } from '../../../helpers/wait.js';

describe('the TraceIdRatioBased rule', () => {
  it('decides as the OpenTelemetry JS SDK sampler does, id by id', () => {
    for (const ratio of [0, 0.001, 0.1, 0.25, 0.5, 0.9, 1]) {
      const sdk = new TraceIdRatioBasedSampler(ratio);
      const bound = ratioUpperBound(ratio);
      let agreed = 0;
      for (let i = 0; i < 5000; i++) {
        const id = randomBytes(16);
        const expected = sdk.shouldSample(context.active(), id.toString('hex')).decision === SamplingDecision.RECORD_AND_SAMPLED;
        expect(ratioSamples(id, bound), `${ratio} ${id.toString('hex')}`).toBe(expected);
        agreed++;
      }
      expect(agreed).toBe(5000);
    }
    expect(ratioSamples(new Uint8Array(16), ratioUpperBound(1))).toBe(false);
  });
});

interface Written {
  records: string[];
  checkpoints: number[];
}

const traceId = (n: number) => Buffer.from(n.toString(16).padStart(32, '0'), 'hex');
const spanIdOf = (n: number) => Buffer.from(n.toString(16).padStart(16, '0'), 'hex');

function record(body: string, trace: number | null, severity = 9): LogRecord {
  return { body: { stringValue: body }, severityNumber: severity, traceId: trace === null ? undefined : traceId(trace), spanId: trace === null ? undefined : spanIdOf(1), timeUnixNano: Long.fromNumber(1) };
}

function root(trace: number, ms: number, error = false): Span {
  const start = Long.fromNumber(1_700_000_000_000).multiply(1_000_000);
  return { traceId: traceId(trace), spanId: spanIdOf(1), name: 'GET /', kind: 2, startTimeUnixNano: start, endTimeUnixNano: start.add(ms * 1_000_000), status: { code: error ? 2 : 0 } };
}

function child(trace: number, error: boolean): Span {
  return { ...root(trace, 1, error), spanId: spanIdOf(2), parentSpanId: spanIdOf(1), kind: 3 };
}

describe('trace-aware log sampling', () => {
  const stores: Store[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });

  /** The sampler over a real queue writer and store; `refuse` makes the writer push back. */
  function setup(over: Partial<{ ratio: number; maxHeldBytes: number; decisionWaitMs: number }> = {}) {
    const store = Store.open(join(tempDir('tracetail-sampling-'), 'state'), { maxQueueBytes: 64 * 1024 * 1024 });
    stores.push(store);
    const state = { refuse: false };
    const writer = new QueueWriter('logs', store, {
      admit: () => {
        if (state.refuse) throw new MemoryLimitError('test: refused', 10);
      },
    });
    const written: Written = { records: [], checkpoints: [] };
    const recording: Consumer<LogBatch> = {
      async consume(batch) {
        await writer.consume(batch);
        for (const rl of batch.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) written.records.push(r.body!.stringValue!);
        for (const c of batch.checkpoints ?? []) written.checkpoints.push((c.data as { offset: number }).offset);
      },
    };
    const telemetry = new Telemetry({ processMetrics: false });
    const sampler = new LogSampler(recording, writer, {
      ratio: over.ratio ?? 0,
      slowThresholdMs: 1000,
      decisionWaitMs: over.decisionWaitMs ?? 60_000,
      maxHeldBytes: over.maxHeldBytes ?? 1024 * 1024,
      telemetry,
      log: createLogger('silent'),
    });
    const counts = async () => {
      const m = await telemetry.registry.getSingleMetric('tracetail_log_sampling_records_total')!.get();
      return Object.fromEntries(m.values.map((v) => [v.labels.decision, v.value]));
    };
    const checkpoint = () => store.getCheckpoint<{ offset: number }>('file-1')?.offset;
    return { sampler, written, state, counts, checkpoint, store };
  }

  const batch = (records: LogRecord[], offset: number): LogBatch => ({
    resourceLogs: [{ resource: { attributes: [keyValue('service.name', 'checkout')] }, scopeLogs: [{ logRecords: records }] }],
    checkpoints: [{ key: 'file-1', data: { offset } }],
    transport: 'file',
  });
  const spans = (list: Span[]) => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: list }] }], transport: 'http' });

  it('holds records of a trace until its root ends, keeps errors, slow traces, WARN and records without context', async () => {
    const { sampler, written, counts, checkpoint } = setup({ ratio: 0 });
    await sampler.start();
    await sampler.consume(batch([record('a1', 1), record('b1', 2), record('c1', 3), record('w', 3, 13), record('n', null)], 100));
    // WARN and context-free records pass at once; the held ones keep the checkpoint back.
    expect(written.records).toEqual(['w', 'n']);
    expect(checkpoint()).toBeUndefined();
    expect(sampler.held.records).toBe(3);
    sampler.traces.observe(spans([child(1, true), root(1, 10), root(2, 1500), root(3, 10)]));
    await sampler.flush();
    expect(written.records.sort()).toEqual(['a1', 'b1', 'n', 'w']);
    expect(checkpoint()).toBe(100);
    expect(sampler.held).toEqual({ bytes: 0, records: 0 });
    // A record that comes after its trace was decided is decided at once.
    await sampler.consume(batch([record('a2', 1), record('c2', 3)], 200));
    expect(written.records).toContain('a2');
    expect(written.records).not.toContain('c2');
    expect(checkpoint()).toBe(200);
    expect(await counts()).toEqual({ kept_error: 2, kept_slow: 1, kept_ratio: 0, kept_level: 1, kept_no_context: 1, kept_overflow: 0, dropped: 2 });
    await sampler.stop();
  });

  it('keeps the fast traces the ratio rule keeps, and no checkpoint passes a held record', async () => {
    const { sampler, written, checkpoint } = setup({ ratio: 0.5 });
    await sampler.start();
    const bound = ratioUpperBound(0.5);
    await sampler.consume(batch([record('t1', 11), record('t2', 12)], 10));
    await sampler.consume(batch([record('x', null)], 20));
    expect(checkpoint()).toBeUndefined();
    sampler.traces.observe(spans([root(11, 5)]));
    await sampler.flush();
    // Trace 12 still waits: the checkpoints of its batch and the later one stay back.
    expect(checkpoint()).toBeUndefined();
    sampler.traces.observe(spans([root(12, 5)]));
    await sampler.flush();
    expect(checkpoint()).toBe(20);
    const expected = [11, 12].filter((t) => ratioSamples(traceId(t), bound)).map((t) => `t${t - 10}`);
    expect(written.records.filter((r) => r.startsWith('t')).sort()).toEqual(expected);
    await sampler.stop();
  });

  it('decides a trace on what is known after decision_wait, and keeps what overflows max_held_bytes', async () => {
    const { sampler, written, counts, checkpoint } = setup({ ratio: 0, decisionWaitMs: 100, maxHeldBytes: 250 });
    await sampler.start();
    sampler.traces.observe(spans([child(7, true)]));
    await sampler.consume(batch([record('e1', 7), record('d1', 8), record('o1', 9), record('o2', 9)], 50));
    expect(written.records).toEqual(['o1', 'o2']);
    await waitFor(async () => (await counts()).dropped === 1, { timeoutMs: 5000 });
    await waitFor(() => checkpoint() === 50, { timeoutMs: 5000 });
    expect(written.records).toContain('e1');
    expect(written.records).not.toContain('d1');
    expect((await counts()).kept_overflow).toBe(2);
    expect((await counts()).kept_error).toBe(1);
    await sampler.stop();
  });

  it('keeps held records and their checkpoints while the queue pushes back, and writes them after', async () => {
    const { sampler, written, state, checkpoint, counts } = setup({ ratio: 1 });
    await sampler.start();
    await sampler.consume(batch([record('k', 21)], 5));
    state.refuse = true;
    sampler.traces.observe(spans([root(21, 5)]));
    await sampler.flush();
    expect(written.records).toEqual([]);
    expect(checkpoint()).toBeUndefined();
    // A refused batch is not counted and holds nothing: it comes again.
    await expect(sampler.consume(batch([record('r', 22), record('w', 22, 13)], 6))).rejects.toThrow(MemoryLimitError);
    expect(sampler.held.records).toBe(0);
    expect((await counts()).kept_level).toBe(0);
    state.refuse = false;
    await waitFor(() => checkpoint() === 5, { timeoutMs: 5000 });
    expect(written.records).toEqual(['k']);
    await sampler.stop();
  });

  it('holds back a checkpoint saved outside a batch behind the held records read before it', async () => {
    const { sampler, store, checkpoint } = setup({ ratio: 1 });
    await sampler.start();
    sampler.save([{ key: 'file-1', data: { offset: 1 } }]);
    expect(checkpoint()).toBe(1);
    await sampler.consume(batch([record('h', 51)], 10));
    sampler.save([{ key: 'file-2', data: { offset: 99 } }]);
    expect(store.getCheckpoint('file-2')).toBeUndefined();
    expect(sampler.all().map((c) => c.key)).toEqual(['file-1']);
    sampler.traces.observe(spans([root(51, 5)]));
    await sampler.flush();
    expect(checkpoint()).toBe(10);
    await waitFor(() => store.getCheckpoint<{ offset: number }>('file-2')?.offset === 99, { timeoutMs: 5000 });
    await sampler.stop();
  });

  it('decides and writes what it holds at stop', async () => {
    const { sampler, written, checkpoint, counts } = setup({ ratio: 1 });
    await sampler.start();
    await sampler.consume(batch([record('s1', 31), record('s2', 32)], 9));
    await sampler.stop();
    expect(written.records.sort()).toEqual(['s1', 's2']);
    expect(checkpoint()).toBe(9);
    const c = await counts();
    expect(SAMPLING_DECISIONS.reduce((n, d) => n + c[d], 0)).toBe(2);
  });

  it('never throws into the traces pipeline on a span it cannot read', async () => {
    const { sampler } = setup();
    await sampler.start();
    const broken = { ...root(61, 5), traceId: undefined as unknown as Uint8Array };
    expect(() => sampler.traces.observe(spans([broken]))).not.toThrow();
    await sampler.stop();
  });

  it('passes OTLP log requests through untouched', async () => {
    const { sampler, written } = setup({ ratio: 0 });
    await sampler.start();
    await sampler.consume({ ...batch([record('o', 41)], 1), checkpoints: [], transport: 'http' });
    expect(written.records).toEqual(['o']);
    expect(sampler.held.records).toBe(0);
    await sampler.stop();
  });
});
