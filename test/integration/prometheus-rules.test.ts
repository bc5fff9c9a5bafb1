/**
 * The Prometheus rules beside the dashboards (dashboards/prometheus): valid for promtool, passing
 * their unit tests (test/fixtures/prometheus), and written in the usual mixin style.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';

const DIR = join(ROOT, 'dashboards/prometheus');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).map((f) => join(DIR, f));

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = files.flatMap((f) => (parse(readFileSync(f, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));
const alerts = rules.filter((r) => r.alert);

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('Prometheus alerting and recording rules', () => {
  it('has the alerts a sidecar needs, in the mixin style: one CamelCase prefix, severity, summary and description', () => {
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining(['TracetailDown', 'TracetailExportFailing', 'TracetailExportQueueFilling', 'TracetailExportQueueOldItems', 'TracetailLogFileLagGrowing', 'TracetailItemsDropped']),
    );
    for (const a of alerts) {
      expect(a.alert).toMatch(/^Tracetail([A-Z][a-z0-9]*)+$/);
      expect(['critical', 'warning'], a.alert).toContain(a.labels?.severity);
      expect(Object.keys(a.annotations ?? {}).sort(), a.alert).toEqual(['description', 'summary']);
    }
    expect(rules.filter((r) => r.record).every((r) => /^[a-z_]+:[a-z_]+:[a-z0-9_]+$/.test(r.record!))).toBe(true);
  });

  it.skipIf(!requireTool('promtool'))('pass promtool check rules', () => {
    const r = promtool('check', 'rules', ...files);
    expect(r.output, r.output).not.toMatch(/FAILED/);
    expect(r.status, r.output).toBe(0);
    expect(r.output.match(/SUCCESS/g)).toHaveLength(files.length);
  });

  it.skipIf(!requireTool('promtool'))('pass their unit tests (promtool test rules)', () => {
    const r = promtool('test', 'rules', 'test/fixtures/prometheus/tracetail-rules.test.yaml');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
    // Every alert has a test that sees it fire.
    const tests = readFileSync(join(ROOT, 'test/fixtures/prometheus/tracetail-rules.test.yaml'), 'utf8');
    for (const a of alerts) expect(tests, a.alert).toMatch(new RegExp(`alertname: ${a.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });
});

describe('Prometheus configurations of config/', () => {
  // Debian's Prometheus is built without Kubernetes service discovery: scrape-kubernetes.yaml is
  // only parsed (test/unit/deploy-examples.test.ts).
  it.skipIf(!requireTool('promtool'))('pass promtool check config: the scrape snippet and the Compose example\'s prometheus.yml', () => {
    for (const file of ['config/prometheus/scrape.yaml', 'config/compose/prometheus.yml']) {
      const r = promtool('check', 'config', '--syntax-only', file);
      expect(r.status, `${file}: ${r.output}`).toBe(0);
    }
  });
});
