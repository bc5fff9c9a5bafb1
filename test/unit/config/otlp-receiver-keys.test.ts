import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { printConfig } from '../../../src/config/print.js';
import { ConfigError } from '../../../src/errors.js';

describe('OTLP receiver keys', () => {
  it('takes unix: paths for the gRPC listener, in the gRPC target spellings', () => {
    for (const [text, path] of [
      ['unix:/run/t/otlp.sock', '/run/t/otlp.sock'],
      ['unix:///run/t/otlp.sock', '/run/t/otlp.sock'],
      ['unix:var/otlp.sock', 'var/otlp.sock'],
    ]) {
      const c = loadConfig({ text: `receivers:\n  otlp:\n    grpc: { endpoint: "${text}" }\n`, env: {} });
      expect(c.receivers.otlp.grpc?.endpoint).toEqual({ path });
    }
    const c = loadConfig({ text: 'receivers:\n  otlp:\n    grpc: { endpoint: "unix:/run/otlp.sock" }\n', env: {} });
    expect(printConfig(c)).toContain('endpoint: unix:/run/otlp.sock');
    expect(printConfig(c)).toContain('endpoint: 127.0.0.1:4318');
  });

  it('refuses an empty unix: path and names the key', () => {
    try {
      loadConfig({ text: 'receivers:\n  otlp:\n    grpc: { endpoint: "unix:" }\n', env: {} });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues[0].path).toBe('receivers.otlp.grpc.endpoint');
    }
  });

  it('has the slow-client timeouts with defaults', () => {
    const c = loadConfig({ text: 'limits: { body_timeout: 2s }\n', env: {} });
    expect([c.limits.header_timeout, c.limits.body_timeout]).toEqual([10_000, 2_000]);
  });
});
