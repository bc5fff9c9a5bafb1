import { describe, expect, it } from 'vitest';
import { negotiateFormat, renderMetric } from '../../../src/metrics/exposition.js';

describe('negotiateFormat', () => {
  it('picks OpenMetrics for the Accept headers Prometheus 2 and 3 send', () => {
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2')).toBe('openmetrics');
  });

  it('falls back to text 0.0.4 for curl, browsers and scrapers that prefer text', () => {
    expect(negotiateFormat(undefined)).toBe('text');
    expect(negotiateFormat('*/*')).toBe('text');
    expect(negotiateFormat('text/plain;version=0.0.4,application/openmetrics-text;q=0.5')).toBe('text');
  });
});

describe('renderMetric', () => {
  const exemplar = { labelSet: { trace_id: 'abc' }, value: 1, timestamp: 1700000000.25 };

  it('writes exemplars on counters in OpenMetrics only, with the family name without _total', () => {
    const metric = { name: 'c_total', help: 'A "c".', type: 'counter', aggregator: 'sum', values: [{ labels: { a: 'x"y' }, value: 2, exemplar }] };
    expect(renderMetric(metric as never, 'openmetrics')).toBe('# HELP c A \\"c\\".\n# TYPE c counter\nc_total{a="x\\"y"} 2 # {trace_id="abc"} 1 1700000000.25');
    expect(renderMetric(metric as never, 'text')).toBe('# HELP c_total A "c".\n# TYPE c_total counter\nc_total{a="x\\"y"} 2');
  });

  it('never writes an exemplar on a gauge or on a histogram _sum/_count (OpenMetrics forbids it)', () => {
    const gauge = { name: 'g', help: 'g', type: 'gauge', aggregator: 'sum', values: [{ labels: {}, value: 1, exemplar }] };
    expect(renderMetric(gauge as never, 'openmetrics')).not.toContain('#  {');
    expect(renderMetric(gauge as never, 'openmetrics')).not.toContain('trace_id');
    const hist = { name: 'h', help: 'h', type: 'histogram', aggregator: 'sum', values: [{ metricName: 'h_count', labels: {}, value: 1, exemplar }] };
    expect(renderMetric(hist as never, 'openmetrics')).not.toContain('trace_id');
  });
});
