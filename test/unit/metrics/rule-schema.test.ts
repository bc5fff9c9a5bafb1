import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { ROOT } from '../../helpers/cli.js';
import { RULES_FIXTURE } from '../../helpers/metrics-harness.js';

function problems(text: string): string[] {
  try {
    loadConfig({ text, env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected the config to be refused');
}

const rules = (yaml: string) => `metrics:\n  rules:\n${yaml.replace(/^/gm, '    ')}\n`;

describe('metrics.rules validation', () => {
  it('accepts the fixture rule file', () => {
    const c = loadConfig({ text: readFileSync(RULES_FIXTURE, 'utf8'), env: {} });
    expect(c.metrics.rules.map((r) => [r.name, r.type])).toEqual([
      ['app_http_requests_total', 'counter'],
      ['app_http_request_duration_seconds', 'histogram'],
      ['app_http_response_bytes_total', 'counter'],
      ['app_payment_failures_total', 'counter'],
      ['app_queue_depth', 'gauge'],
    ]);
    expect(c.metrics.rules[1]).toMatchObject({ value: 'duration_ms', unit: 'ms', source: 'body', exemplars: true });
  });

  it('accepts the rules shown in the README', () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes('rules:'));
    expect(blocks.length).toBeGreaterThan(0);
    for (const text of blocks) expect(loadConfig({ text, env: {} }).metrics.rules.length).toBeGreaterThan(0);
  });

  it('names the rule and the key of every problem', () => {
    const text = rules(`- name: requests_total
  type: counter
- name: errors
  type: counter
  regex: '(?<x>['
  lables: {}
- name: latency
  type: histogram
  unit: ms
  buckets: [1, 0.5]
- name: requests_total
  type: gauge
  value: depth
  filter:
    - { field: a, equals: b, matches: c }
  labels: { "1x": a, le: b }`);
    expect(problems(text)).toEqual([
      'metrics.rules.1.regex: Invalid regular expression: /(?<x>[/: Unterminated character class',
      'metrics.rules.1.lables: unknown key; did you mean "labels"?',
      `metrics.rules.1.name: a counter's name must end in _total (e.g. "errors_total")`,
      'metrics.rules.2.value: a histogram needs a value: the field that holds the number',
      'metrics.rules.2.unit: a unit converts the value field; set value too',
      'metrics.rules.2.name: the value is converted to seconds, so the name should end in _seconds (Prometheus base units)',
      'metrics.rules.2.buckets.1: bucket bounds must be strictly increasing',
      'metrics.rules.3.filter.0: a condition needs exactly one of equals, matches or exists',
      'metrics.rules.3.name: only counters end in _total; this rule is a gauge',
      'metrics.rules.3.labels.1x: expected a Prometheus label name (letters, digits and _, not starting with a digit or __)',
      'metrics.rules.3.labels.le: "le" is reserved',
      'metrics.rules.3.name: the name "requests_total" is already used by metrics.rules.0',
    ]);
  });

  it('refuses reserved names, unknown units and a regex without a named group', () => {
    expect(problems(rules(`- { name: tracetail_x_total, type: counter }`))).toEqual([
      'metrics.rules.0.name: names starting with "tracetail_" are reserved for tracetail\'s own metrics',
    ]);
    expect(problems(rules(`- { name: x_seconds, type: histogram, value: d, unit: fortnights }`))[0]).toMatch(/^metrics\.rules\.0\.unit: unknown unit "fortnights"; expected one of ns, us/);
    expect(problems(rules(`- { name: x_total, type: counter, regex: 'GET /' }`))).toEqual([
      'metrics.rules.0.regex: the regex has no named capture group such as (?<status>\\d+); use filter with matches to only select records',
    ]);
    expect(problems(rules(`- { name: x_total, type: histogram_summary }`))).toEqual(['metrics.rules.0.type: expected one of "counter", "gauge" or "histogram", got "histogram_summary"']);
  });

  it('refuses span dimensions that collide as labels', () => {
    expect(problems('metrics:\n  span_metrics:\n    dimensions: [http.route, http_route, status.code, le]\n')).toEqual([
      'metrics.span_metrics.dimensions.1: "http_route" and "http.route" both become the label http_route',
      'metrics.span_metrics.dimensions.2: "status.code" becomes the label status_code, which span metrics already use',
      'metrics.span_metrics.dimensions.3: "le" becomes the label le, which span metrics already use',
    ]);
  });
});
