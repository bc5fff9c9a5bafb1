import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, runCli, spawnCli, startCli, tempDir, testConfig, writeConfig, type CliProcess } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const FIXTURES = join(ROOT, 'test/fixtures/config');

/** What `check-config` must say for each broken fixture: the key path and the reason. */
const EXPECTED: Record<string, string> = {
  'bad-wrong-type.yaml': 'limits.memory_mib: expected number, got string "lots"',
  'bad-unknown-key.yaml': 'logs.strat_at: unknown key; did you mean "start_at"?',
  'bad-enum.yaml': 'logs.start_at: expected "beginning" or "end", got "middle"',
  'bad-duration.yaml': 'shutdown_timeout: expected a duration such as "500ms", "5s" or "1m", got "5 parsecs"',
  'bad-port.yaml': 'metrics.endpoint: port 99999 is out of range 0-65535',
  'bad-glob.yaml': 'logs.include.0: invalid glob "/var/log/app/[abc.log"',
  'bad-missing-env.yaml': 'export.otlp.endpoint: environment variable TRACETAIL_TEST_UNSET_COLLECTOR_URL is not set',
  'bad-invalid-yaml.yaml': 'invalid YAML at line 4, column 3',
  'bad-regex.yaml': 'logs.regex: invalid regular expression',
  'bad-size.yaml': 'storage.max_queue_bytes: expected a size in bytes',
  'bad-debug-exposed.yaml': 'debug.endpoint: binding the debug API to 0.0.0.0 needs debug.token',
  'bad-url.yaml': 'export.otlp.endpoint: expected an http:// or https:// URL',
};

const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function start(...args: Parameters<typeof startCli>): Promise<CliProcess> {
  const p = await startCli(...args);
  running.push(p);
  return p;
}

describe('check-config', () => {
  it('has a fixture with an expected message for every broken config', () => {
    const fixtures = readdirSync(FIXTURES).filter((f) => f.startsWith('bad-'));
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
    expect(fixtures.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s exits 1 and names the key and the reason', async (file, message) => {
    const r = await runCli(['check-config', '--config', join(FIXTURES, file)], { env: { TRACETAIL_TEST_UNSET_COLLECTOR_URL: undefined } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('prints the effective config with secrets redacted', async () => {
    const dir = tempDir();
    const file = writeConfig(dir, {
      export: { otlp: { endpoint: 'https://user:hunter2@collector.example:4318', headers: { authorization: 'Bearer s3cret' } } },
      debug: { token: 'debug-s3cret' },
    });
    const r = await runCli(['check-config', '--config', file], { env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=env-s3cret', OTEL_SERVICE_NAME: 'checkout' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('service.name: checkout');
    expect(r.stdout).toContain('url: https://user:%3Credacted%3E@collector.example:4318/v1/traces');
    expect(r.stdout).toContain('x-api-key: <redacted>');
    for (const secret of ['hunter2', 's3cret']) expect(r.stdout).not.toContain(secret);
  });

  it('validates the embedded default config', async () => {
    const r = await runCli(['check-config', '--config', join(ROOT, 'config/tracetail.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('include:\n    - ./var/log/**/*.log');
  });
});

describe('command line', () => {
  it('prints the version and the help', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^tracetail \d+\.\d+\.\d+\n$/);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('tracetail check-config');
  });

  it.each([[['bogus']], [['--no-such-flag']], [['run', 'extra']]])('exits 2 on a usage error: %j', async (args) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage:');
  });

  it('run with a bad config exits 1 and logs the key', async () => {
    const r = await runCli(['run', '--config', join(FIXTURES, 'bad-enum.yaml')]);
    expect(r.code).toBe(1);
    const fatal = r.logs.find((l) => l.level === 'fatal');
    expect(fatal?.msg).toContain('logs.start_at: expected "beginning" or "end", got "middle"');
  });

  it('run exits 1 naming the key when its port is taken', async () => {
    const first = await start({ config: testConfig(tempDir()) });
    const taken = first.endpoint('metrics.endpoint')!;
    const dir = tempDir();
    const r = await runCli(['run', '--config', writeConfig(dir, testConfig(dir, { metrics: { endpoint: taken } }))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`metrics.endpoint: cannot listen on ${taken}: address already in use`);
  });
});

describe('start-up output', () => {
  it('names the URL of every listener, says exports go to files, and names the globs that match nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.log'), 'hello\n');
    const p = await start({
      config: testConfig(dir, {
        logs: { include: [join(dir, '*.log'), join(dir, 'not-mounted/**/*.log')] },
        receivers: { otlp: { http: { endpoint: '127.0.0.1:0' }, grpc: { endpoint: '127.0.0.1:0' }, unix: { path: join(dir, 'otlp.sock') } } },
        debug: { endpoint: '127.0.0.1:0' },
      }),
    });
    await p.waitForLog((l) => l.msg === 'tracetail started');
    const urls = Object.fromEntries(p.logs.filter((l) => l.msg === 'listening').map((l) => [l.listener, l.url]));
    expect(urls).toEqual({
      'metrics.endpoint': `http://${p.endpoint('metrics.endpoint')}/metrics`,
      'debug.endpoint': `http://${p.endpoint('debug.endpoint')}/`,
      'receivers.otlp.http.endpoint': `http://${p.endpoint('receivers.otlp.http.endpoint')}`,
      'receivers.otlp.grpc.endpoint': `http://${p.endpoint('receivers.otlp.grpc.endpoint')}`,
      'receivers.otlp.unix.path': `unix://${join(dir, 'otlp.sock')}`,
    });
    expect((await fetch(urls['metrics.endpoint'] as string)).status).toBe(200);

    const files = p.logs.find((l) => l.level === 'warn' && l.msg.startsWith('no OTLP endpoint'));
    expect(files).toMatchObject({ signals: ['traces', 'logs', 'metrics'], directory: join(dir, 'export'), max_files: 8 });
    const unmatched = p.logs.filter((l) => l.msg.startsWith('logs.include matches no file'));
    expect(unmatched).toEqual([expect.objectContaining({ level: 'warn', include: join(dir, 'not-mounted/**/*.log'), directory: join(dir, 'not-mounted'), directory_exists: false })]);
  });

  it('says where exports go when an OTLP endpoint is set, without the files warning', async () => {
    const p = await start({ config: testConfig(tempDir()), env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.example:4318' } });
    await p.waitForLog((l) => l.msg === 'tracetail started');
    expect(p.logs.find((l) => l.msg === 'exporting over OTLP/HTTP')).toMatchObject({
      traces: 'http://collector.example:4318/v1/traces',
      logs: 'http://collector.example:4318/v1/logs',
      metrics: 'http://collector.example:4318/v1/metrics',
    });
    expect(p.logs.filter((l) => l.msg.startsWith('no OTLP endpoint'))).toEqual([]);
  });

  it('says nothing of export destinations when export.enabled is false', async () => {
    const p = await start({ config: testConfig(tempDir(), { export: { enabled: false } }) });
    await p.waitForLog((l) => l.msg === 'tracetail started');
    expect(p.logs.filter((l) => l.msg.startsWith('no OTLP endpoint') || l.msg === 'exporting over OTLP/HTTP')).toEqual([]);
  });

  it('writes one line a person reads per entry with --log-format pretty, JSON by default when stderr is no terminal', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, testConfig(dir));
    const pretty = spawnCli(['run', '--config', config, '--log-format', 'pretty']);
    running.push(pretty);
    await waitFor(() => /INFO {2}admin: listening http:\/\/127\.0\.0\.1:\d+\/metrics listener=metrics\.endpoint/.exec(pretty.stderr), { timeoutMs: 15_000, what: `a pretty listening line (${pretty.stderr})` });
    await waitFor(() => pretty.stderr.includes('tracetail started'), { timeoutMs: 15_000, what: 'the started line' });
    for (const line of pretty.stderr.trimEnd().split('\n')) expect(line).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} (INFO|WARN) {1,2}\S/);
    expect(pretty.logs).toEqual([]);
    expect(await pretty.stop()).toBe(0);

    const json = await start({ config: testConfig(tempDir()) });
    expect(json.logs.length).toBeGreaterThan(0);
    expect((await runCli(['run', '--log-format', 'fancy'])).code).toBe(2);
  });
});

describe('run', () => {
  it('serves /metrics, /healthz and /readyz', async () => {
    const p = await start({ config: testConfig(tempDir()) });
    const base = p.metricsUrl.replace('/metrics', '');
    const metrics = await fetch(p.metricsUrl);
    expect(metrics.status).toBe(200);
    const body = await metrics.text();
    expect(body).toMatch(/^tracetail_build_info\{version="\d+\.\d+\.\d+",nodejs_version="v\d+[^"]*"\} 1$/m);
    // storage.max_queue_bytes, for a panel or an alert on how full the queue is.
    expect(body).toMatch(/^tracetail_export_queue_max_bytes 268435456$/m);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // /metrics answers from the first moment, /readyz once every receiver is bound.
    await p.waitForLog((l) => l.msg === 'tracetail started');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(p.metricsUrl, { method: 'POST' })).status).toBe(405);
  });

  it('answers OpenMetrics when the scraper asks for it and text 0.0.4 otherwise', async () => {
    const p = await start({ config: testConfig(tempDir()) });
    const om = await fetch(p.metricsUrl, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' },
    });
    expect(om.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const omText = await om.text();
    expect(omText.endsWith('# EOF\n')).toBe(true);
    expect(omText).toContain('# TYPE tracetail_export_items counter\n');

    for (const accept of [undefined, 'text/plain;version=0.0.4', '*/*']) {
      const text = await fetch(p.metricsUrl, { headers: accept ? { accept } : {} });
      expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const body = await text.text();
      expect(body).not.toContain('# EOF');
      // A counter keeps its _total name in text format even after an OpenMetrics scrape.
      expect(body).toContain('# TYPE tracetail_export_items_total counter\n');
    }
  });

  it('passes promtool check metrics', async () => {
    if (!requireTool('promtool')) return;
    const p = await start({ config: testConfig(tempDir()) });
    const body = await (await fetch(p.metricsUrl)).text();
    const out = execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(out).toBe('');
  });

  it('stops with exit code 0 within shutdown_timeout on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const p = await start({ config: testConfig(tempDir(), { shutdown_timeout: '5s' }) });
      p.kill(signal);
      const code = await waitFor(() => (p.exitCode !== null ? { code: p.exitCode } : undefined), { timeoutMs: 5000, what: `exit after ${signal}` });
      expect(code.code).toBe(0);
      expect(p.logs.some((l) => l.msg === 'stopping' && l.signal === signal)).toBe(true);
    }
  });

  it('SIGHUP with a broken file keeps the old config running; a valid file is applied', async () => {
    const dir = tempDir();
    const config = testConfig(dir, { service: { name: 'before' } });
    const file = writeConfig(dir, config);
    const p = await start({ args: ['--config', file] });
    // The admin server listens first; the receivers may still be starting.
    await p.waitForLog((l) => l.msg === 'tracetail started');

    writeFileSync(file, 'logs:\n  start_at: middle\n');
    p.kill('SIGHUP');
    const refused = await p.waitForLog((l) => l.msg.startsWith('reload refused'));
    expect(refused.msg).toContain('logs.start_at: expected "beginning" or "end", got "middle"');
    expect(p.exitCode).toBeNull();
    expect((await fetch(p.metricsUrl)).status).toBe(200);
    expect((await fetch(p.metricsUrl.replace('/metrics', '/readyz'))).status).toBe(200);

    // A valid file with a new metrics port: the admin server moves to it.
    const oldUrl = p.metricsUrl;
    const port = await freePort();
    writeConfig(dir, { ...config, metrics: { endpoint: `127.0.0.1:${port}` } });
    p.kill('SIGHUP');
    await p.waitForLog((l) => l.msg === 'configuration reloaded');
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    await expect(fetch(oldUrl)).rejects.toThrow();
    expect(await p.stop()).toBe(0);
  });
});
