/** The correlation index and the debug server in the built CLI. */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli, tempDir, testConfig, writeConfig, type CliProcess } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';

const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function start(extra: Record<string, unknown>): Promise<CliProcess> {
  const p = await startCli({ config: testConfig(tempDir(), extra) });
  running.push(p);
  return p;
}

describe('debug server in the sidecar', () => {
  it('listens on debug.endpoint, logs the listener line and serves the API and the page', async () => {
    const p = await start({ debug: { endpoint: '127.0.0.1:0' } });
    const endpoint = await p.waitForEndpoint('debug.endpoint');
    expect(endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    const list = await fetch(`http://${endpoint}/api/v1/traces`);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ traces: [], indexedTraces: 0 });
    const page = await fetch(`http://${endpoint}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>tracetail traces</title>');
    expect((await fetch(`http://${endpoint}/api/v1/traces/${'ab'.repeat(16)}`)).status).toBe(404);
  });

  it('wants the token on the API when debug.token is set', async () => {
    const p = await start({ debug: { endpoint: '127.0.0.1:0', token: 'cli-token' } });
    const endpoint = await p.waitForEndpoint('debug.endpoint');
    expect((await fetch(`http://${endpoint}/api/v1/traces`)).status).toBe(401);
    expect((await fetch(`http://${endpoint}/api/v1/traces`, { headers: { authorization: 'Bearer cli-token' } })).status).toBe(200);
  });

  it('exits 1 naming debug.endpoint when its port is taken', async () => {
    const first = await start({ debug: { endpoint: '127.0.0.1:0' } });
    const taken = await first.waitForEndpoint('debug.endpoint');
    const dir = tempDir();
    const r = await runCli(['run', '--config', writeConfig(dir, testConfig(dir, { debug: { endpoint: taken } }))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`debug.endpoint: cannot listen on ${taken}: address already in use`);
  });

  it('exposes the correlation metrics from start-up, at 0, and passes promtool', async () => {
    const p = await start({});
    const body = await (await fetch(p.metricsUrl)).text();
    for (const result of ['matched', 'unmatched', 'no_context']) expect(body).toContain(`tracetail_correlation_log_records_total{result="${result}"} 0\n`);
    for (const reason of ['expired', 'memory', 'shutdown']) expect(body).toContain(`tracetail_correlation_traces_evicted_total{reason="${reason}"} 0\n`);
    expect(body).toContain('tracetail_correlation_index_traces 0\n');
    expect(body).toContain('tracetail_correlation_index_bytes 0\n');
    expect(body).toContain('tracetail_correlation_resource_inherited_total 0\n');
    if (requireTool('promtool')) expect(execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' })).toBe('');
  });
});
