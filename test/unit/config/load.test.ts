import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ text, env });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty file', () => {
    const c = loadConfig({ text: '', env: {} });
    expect(c.logs.start_at).toBe('beginning');
    expect(c.logs.partial_line_timeout).toBe(5000);
    expect(c.receivers.otlp.http?.endpoint).toEqual({ host: '127.0.0.1', port: 4318 });
    expect(c.metrics.endpoint).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(c.storage.max_queue_bytes).toBe(268435456);
    expect(c.shutdown_timeout).toBe(20_000);
    expect(c.resource['service.name']).toBe('unknown_service');
    expect(c.exportTargets.traces).toBeNull();
    expect(Object.isFrozen(c.logs)).toBe(true);
  });

  it('names the key and the reason for a bad enum', () => {
    expect(problems('logs:\n  start_at: middle\n')).toEqual(['logs.start_at: expected "beginning" or "end", got "middle"']);
  });

  it('suggests the closest key for a typo', () => {
    expect(problems('logs:\n  strat_at: end\n')).toEqual(['logs.strat_at: unknown key; did you mean "start_at"?']);
  });

  it('reports every problem at once', () => {
    expect(problems('logs:\n  start_at: middle\nshutdown_timeout: soon\n')).toHaveLength(2);
  });
});
