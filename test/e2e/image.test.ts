import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliProcess, ROOT, tempDir, testConfig, writeConfig } from '../helpers/cli.js';
import { execForm, parseDockerfile, readDockerfile, replayDockerfile } from '../helpers/dockerfile.js';

describe('Dockerfile', () => {
  const text = readDockerfile(ROOT);
  const { stages } = parseDockerfile(text);
  const final = stages[stages.length - 1];
  const op = (name: string) => final.instructions.filter((i) => i.op === name).map((i) => i.args);

  it('is multi-stage and runs a slim Node image as a numeric non-root user under an init', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(final.image).toMatch(/^node:\d+-\w+-slim$/);
    const user = op('USER');
    expect(user).toHaveLength(1);
    expect(user[0]).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(execForm(op('ENTRYPOINT')[0])).toEqual(['/usr/bin/tini', '--']);
    expect(execForm(op('CMD')[0])?.slice(0, 2)).toEqual(['node', 'dist/cli.js']);
    expect(op('EXPOSE').join(' ').split(/\s+/).sort()).toEqual(['4317', '4318', '9464', '9465']);
    expect(op('VOLUME').join(' ')).toContain('/var/lib/tracetail');
    expect(op('ENV').join(' ')).toContain('NODE_ENV=production');
    // Only production dependencies reach the runtime stage.
    const prodDeps = stages.find((s) => s.name === 'prod-deps');
    expect(prodDeps?.instructions.some((i) => i.op === 'RUN' && i.args.includes('npm ci --omit=dev'))).toBe(true);
  });

  it(
    'replayed without a Docker engine, installs, validates its config and runs',
    async () => {
      const scratch = tempDir('tracetail-image-');
      const image = replayDockerfile(ROOT, text, scratch);
      expect(image.skipped.every((s) => /apt-get|mkdir|chown/.test(s))).toBe(true);
      const cmd = image.cmd;
      const env = { ...process.env, ...image.env };

      // No dev dependencies in the runtime image.
      const { existsSync } = await import('node:fs');
      expect(existsSync(join(image.workdir, 'node_modules/vitest'))).toBe(false);
      expect(existsSync(join(image.workdir, 'node_modules/typescript'))).toBe(false);
      expect(existsSync(join(image.workdir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);

      const check = new CliProcess(spawn(cmd[0] === 'node' ? process.execPath : cmd[0], [cmd[1], 'check-config'], { cwd: image.workdir, env }));
      expect(await check.exited).toBe(0);

      const dir = tempDir();
      // The debug server on: its page files must have been built into the image.
      const config = writeConfig(dir, testConfig(dir, { debug: { endpoint: '127.0.0.1:0' } }));
      const run = new CliProcess(
        spawn(process.execPath, [...cmd.slice(1), '--config', config], { cwd: image.workdir, env, stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      try {
        const endpoint = await run.waitForEndpoint('metrics.endpoint', 30_000);
        const body = await (await fetch(`http://${endpoint}/metrics`)).text();
        expect(body).toContain('tracetail_build_info{');
        const debug = await run.waitForEndpoint('debug.endpoint');
        expect(await (await fetch(`http://${debug}/app.js`)).text()).toContain('waterfall');
      } finally {
        expect(await run.stop()).toBe(0);
      }
    },
    15 * 60_000,
  );
});
