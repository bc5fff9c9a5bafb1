import { describe, expect, it } from 'vitest';
import { renderMetric } from '../../../src/metrics/exposition.js';
import { EXEMPLAR_REFRESH_MS, SeriesFamily } from '../../../src/metrics/series-family.js';

const traceA = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const spanA = Buffer.from('b7ad6b7169203331', 'hex');
const traceB = Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex');

function family(over: Partial<ConstructorParameters<typeof SeriesFamily>[0]> = {}) {
  return new SeriesFamily({ name: 'x_total', help: 'x', type: 'counter', labelNames: ['a'], exemplars: true, maxSeries: 2, idleTimeoutMs: 1000, ...over });
}

describe('SeriesFamily', () => {
  it('sends label sets past the budget to one overflow series and counts every such update', async () => {
    const f = family();
    for (const a of ['1', '2', '3', '4', '3']) {
      const s = f.find(a) ?? f.create(a, { a }, 0);
      f.add(s, 1, 0);
    }
    const { values } = await f.get();
    expect(values.map((v) => [v.labels, v.value])).toEqual([
      [{ a: '1' }, 1],
      [{ a: '2' }, 1],
      [{ otel_metric_overflow: 'true' }, 3],
    ]);
    expect(f.takeCounts()).toEqual({ overflowed: 3, removed: 0 });
    expect(f.takeCounts()).toEqual({ overflowed: 0, removed: 0 });
  });

  it('removes idle series (not pinned ones) and frees the budget for new label sets', async () => {
    const f = family();
    f.pin('p', { a: 'p' }, 0);
    f.add(f.create('1', { a: '1' }, 0), 1, 0);
    expect(f.create('2', { a: '2' }, 500).labels).toEqual({ otel_metric_overflow: 'true' });
    f.sweep(1600);
    expect(f.find('1')).toBeUndefined();
    expect(f.find('p')).toBeDefined();
    expect(f.create('2', { a: '2' }, 1600).labels).toEqual({ a: '2' });
    expect(f.takeCounts().removed).toBe(2); // '1' and the overflow series
  });

  it('never removes series when the idle timeout is null', () => {
    const f = family({ idleTimeoutMs: null });
    f.create('1', { a: '1' }, 0);
    f.sweep(1e12);
    expect(f.size).toBe(1);
  });

  it('drops empty label values, as Prometheus treats them as absent', () => {
    expect(family().create('', { a: '' }, 0).labels).toEqual({});
  });

  it('renders histogram buckets cumulatively with an exemplar in the bucket of its value', async () => {
    const f = new SeriesFamily({ name: 'd_seconds', help: 'd', type: 'histogram', labelNames: ['a'], buckets: [0.1, 1], exemplars: true, maxSeries: 10, idleTimeoutMs: null });
    const s = f.create('k', { a: 'k' }, 0);
    f.observe(s, 0.05, 0);
    const slot = f.observe(s, 0.5, 0);
    f.exemplar(s, slot, 0.5, traceA, spanA, 0, 1700000000.5);
    f.observe(s, 7, 0);
    const { values } = await f.get();
    expect(values).toEqual([
      { metricName: 'd_seconds_bucket', labels: { a: 'k', le: '0.1' }, value: 1 },
      {
        metricName: 'd_seconds_bucket',
        labels: { a: 'k', le: '1' },
        value: 2,
        exemplar: { labelSet: { trace_id: traceA.toString('hex'), span_id: spanA.toString('hex') }, value: 0.5, timestamp: 1700000000.5 },
      },
      { metricName: 'd_seconds_bucket', labels: { a: 'k', le: '+Inf' }, value: 3 },
      { metricName: 'd_seconds_sum', labels: { a: 'k' }, value: 7.55 },
      { metricName: 'd_seconds_count', labels: { a: 'k' }, value: 3 },
    ]);
  });

  it('refreshes an exemplar at most once per interval', async () => {
    const f = family();
    const s = f.create('1', { a: '1' }, 0);
    f.exemplar(s, 0, 1, traceA, spanA, 0, 1);
    f.exemplar(s, 0, 1, traceB, null, EXEMPLAR_REFRESH_MS - 1, 2);
    expect((await f.get()).values[0].exemplar?.labelSet.trace_id).toBe(traceA.toString('hex'));
    f.exemplar(s, 0, 1, traceB, null, EXEMPLAR_REFRESH_MS, 3);
    expect((await f.get()).values[0].exemplar).toEqual({ labelSet: { trace_id: traceB.toString('hex') }, value: 1, timestamp: 3 });
  });

  it('has no exemplars on a gauge', () => {
    const f = family({ name: 'g', type: 'gauge' });
    const s = f.create('1', { a: '1' }, 0);
    f.exemplar(s, 0, 1, traceA, spanA, 0, 1);
    expect(s.exTrace).toBeUndefined();
  });

  it('renders itself exactly as the generic renderer renders its samples, in both formats', async () => {
    const hist = new SeriesFamily({ name: 'd_seconds', help: 'A "d"\\n.', type: 'histogram', labelNames: ['a'], buckets: [0.1, 1], exemplars: true, maxSeries: 1, idleTimeoutMs: null });
    const counter = family({ maxSeries: 1 });
    for (const f of [hist, counter]) {
      const s = f.create('k', { a: 'x"y\\z' }, 0);
      const overflow = f.create('other', { a: 'o' }, 0);
      for (const target of [s, overflow]) {
        if (f.type === 'histogram') f.exemplar(target, f.observe(target, 0.5, 0), 0.5, traceA, spanA, 0, 1700000000.5);
        else {
          f.add(target, 2, 0);
          f.exemplar(target, 0, 1, traceA, null, 0, 1700000000);
        }
      }
      for (const format of ['text', 'openmetrics'] as const) {
        expect(f.renderExposition(format)).toBe(renderMetric((await f.get()) as never, format));
      }
    }
    expect(counter.renderExposition('openmetrics')).toContain('x_total{otel_metric_overflow="true"} 2 # {trace_id="');
  });
});
