/** `export.enabled: false` and `correlation.enabled: false`: a metrics-only sidecar, through the built CLI. */
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && line.includes(labels) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
  return sum;
}

const line = (i: number, trace: boolean) =>
  `${JSON.stringify({ level: i % 10 === 0 ? 50 : 30, time: 1714564800000 + i, msg: `line ${i}`, ...(trace ? { trace_id: '5eed' + String(i).padStart(28, '0'), span_id: 'abcd' + String(i).padStart(12, '0') } : {}) })}\n`;

describe('metrics only (export.enabled: false, correlation.enabled: false)', () => {
  it('counts every line in the log metrics, moves checkpoints, queues and writes nothing', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs/app.log'), Array.from({ length: 500 }, (_, i) => line(i, i % 5 !== 0)).join(''));
    const config = testConfig(dir, { export: { enabled: false }, correlation: { enabled: false }, service: { name: 'shop' } });
    const first = await startCli({ dir, config });
    running.push(first);
    const url = first.metricsUrl;
    await waitFor(async () => (await metric(url, 'tracetail_log_records_total', 'service_name="shop"')) === 500, { timeoutMs: 20_000, what: '500 records counted' });
    expect(await metric(url, 'tracetail_log_records_total', 'severity="error"')).toBe(50);
    expect(await metric(url, 'tracetail_log_records_total', 'trace_context="present"')).toBe(400);
    expect(await metric(url, 'tracetail_export_queue_bytes')).toBe(0);
    // No trace index: its counters are not there at all.
    expect(await metric(url, 'tracetail_correlation_log_records_total')).toBe(0);
    expect((await (await fetch(url)).text()).includes('tracetail_correlation_log_records_total')).toBe(false);
    expect(first.logs.some((l) => l.msg.includes('export.enabled is false'))).toBe(true);
    expect(await first.stop()).toBe(0);
    running.splice(0);

    // The checkpoint moved: a restart reads only what was written since.
    appendFileSync(join(dir, 'logs/app.log'), Array.from({ length: 20 }, (_, i) => line(500 + i, true)).join(''));
    const second = await startCli({ dir, config });
    running.push(second);
    await waitFor(async () => (await metric(second.metricsUrl, 'tracetail_log_records_total', 'service_name="shop"')) === 20, { timeoutMs: 20_000, what: '20 new records counted' });
    expect(existsSync(join(dir, 'export')) ? readdirSync(join(dir, 'export')) : []).toEqual([]);
  });
});
