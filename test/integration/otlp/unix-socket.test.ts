/**
 * The Unix socket listeners: created with the configured mode in a directory made on demand, a
 * stale socket from a crash replaced, a path that is not a socket (or a socket in use) refused with
 * an error naming the key, and the socket file removed on a clean stop. gRPC on a `unix:` path too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../../src/errors.js';
import { encodeRequest, requestType } from '../../../src/otlp/codec.js';
import { tempDir } from '../../helpers/cli.js';
import { request, startOtlp, type OtlpHarness } from './harness.js';

const body = () =>
  encodeRequest(
    'traces',
    requestType.traces.fromObject({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 's', startTimeUnixNano: 1, endTimeUnixNano: 2 }] }] }],
    }) as never,
  );

const mode = (path: string) => lstatSync(path).mode & 0o777;

/** A socket file whose process died without removing it (kill -9). */
function staleSocket(path: string): void {
  const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', script]);
  if (!lstatSync(path).isSocket()) throw new Error('no stale socket was left behind');
}

describe('OTLP over Unix sockets', () => {
  const started: OtlpHarness[] = [];
  const start = async (extra: Record<string, unknown>) => {
    const h = await startOtlp(extra);
    started.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of started.splice(0)) await h.stop();
  });

  it('creates the socket with the default mode 0660 in a directory it creates, and removes it on stop', async () => {
    const dir = tempDir();
    const path = join(dir, 'not', 'yet', 'there', 'otlp.sock');
    const h = await start({ receivers: { otlp: { http: null, grpc: null, unix: { path } } } });
    expect(h.unix).toBe(path);
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(mode(path)).toBe(0o660);
    expect((await request(path, { path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, body: body() })).status).toBe(200);
    expect(h.traces.batches[0].transport).toBe('unix');
    await h.stop();
    expect(existsSync(path)).toBe(false);
  });

  it('applies the configured mode', async () => {
    for (const m of ['0600', '0640', '0666']) {
      const path = join(tempDir(), `otlp-${m}.sock`);
      const h = await start({ receivers: { otlp: { http: null, grpc: null, unix: { path, mode: m } } } });
      expect(mode(path)).toBe(parseInt(m, 8));
      await h.stop();
    }
  });

  it('replaces a stale socket left by a crash', async () => {
    const path = join(tempDir(), 'otlp.sock');
    staleSocket(path);
    const refused = await request(path, { path: '/v1/traces' }).catch((e: NodeJS.ErrnoException) => e.code);
    expect(refused).toBe('ECONNREFUSED');
    const h = await start({ receivers: { otlp: { http: null, grpc: null, unix: { path } } } });
    expect((await request(path, { path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, body: body() })).status).toBe(200);
    expect(h.traces.batches).toHaveLength(1);
  });

  it('refuses a path that is not a socket, naming the key, and leaves the file alone', async () => {
    const path = join(tempDir(), 'important.txt');
    writeFileSync(path, 'keep me');
    const err = await startOtlp({ receivers: { otlp: { http: null, grpc: null, unix: { path } } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toBe(`receivers.otlp.unix.path: ${path} exists and is not a Unix socket; refusing to replace it (remove it or choose another path)`);
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });

  it('refuses a socket another process is serving on', async () => {
    const path = join(tempDir(), 'busy.sock');
    const other = net.createServer();
    await new Promise<void>((r) => other.listen(path, r));
    try {
      const err = await startOtlp({ receivers: { otlp: { http: null, grpc: null, unix: { path } } } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as Error).message).toContain('receivers.otlp.unix.path');
      expect((err as Error).message).toContain('in use by a running process');
      expect(lstatSync(path).isSocket()).toBe(true);
    } finally {
      other.close();
    }
  });

  it('serves OTLP/gRPC on a unix: path with the socket mode, and removes it on stop', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'g'));
    const path = join(dir, 'g', 'grpc.sock');
    const h = await start({ receivers: { otlp: { http: null, unix: { path: join(dir, 'http.sock'), mode: '0600' }, grpc: { endpoint: `unix://${path}` } } } });
    expect(h.grpc).toBe(path);
    expect(mode(path)).toBe(0o600);
    await h.stop();
    expect(existsSync(path)).toBe(false);
  });
});
