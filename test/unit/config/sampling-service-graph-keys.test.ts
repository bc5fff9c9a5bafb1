import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

function problems(text: string): string[] {
  try {
    loadConfig({ text, env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('logs.sampling and metrics.service_graph keys', () => {
  it('default to sampling off and the service graph on, with the documented values', () => {
    const c = loadConfig({ text: '', env: {} });
    expect(c.logs.sampling).toEqual({ enabled: false, ratio: 0.1, slow_threshold: 1000, decision_wait: 10_000, max_held_bytes: 32 * 1024 * 1024 });
    expect(c.metrics.service_graph).toMatchObject({ enabled: true, wait: 10_000, max_items: 10_000, peer_attributes: ['peer.service', 'db.name', 'db.system', 'server.address'] });
    expect(c.metrics.service_graph.histogram_buckets).toHaveLength(16);
  });

  it('names the key of a bad value', () => {
    expect(problems('logs:\n  sampling:\n    ratio: 1.5\n')).toEqual([expect.stringMatching(/^logs\.sampling\.ratio: /)]);
    expect(problems('logs:\n  sampling:\n    decision_wait: soon\n')).toEqual([expect.stringMatching(/^logs\.sampling\.decision_wait: expected a duration/)]);
    expect(problems('logs:\n  sampling:\n    max_held: 1\n')).toEqual([expect.stringMatching(/^logs\.sampling\.max_held: unknown key .*max_held_bytes/)]);
    expect(problems('metrics:\n  service_graph:\n    max_items: 0\n')).toEqual([expect.stringMatching(/^metrics\.service_graph\.max_items: /)]);
    expect(problems('metrics:\n  service_graph:\n    peer_attributes: []\n')).toEqual([expect.stringMatching(/^metrics\.service_graph\.peer_attributes: /)]);
  });
});
