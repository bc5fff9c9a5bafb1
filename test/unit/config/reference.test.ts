import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference, withReference } from '../../../src/config/reference.js';
import { ROOT } from '../../helpers/cli.js';

describe('README configuration reference', () => {
  it('matches the schema (run `npm run docs:config` after changing the schema)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toBe(withReference(readme));
  });

  it('lists every documented configuration key', () => {
    const table = configReference();
    for (const key of [
      'service.name',
      'service.resource_attributes',
      'logs.include',
      'logs.exclude',
      'logs.start_at',
      'logs.format',
      'logs.regex',
      'logs.max_line_bytes',
      'logs.poll_interval',
      'logs.partial_line_timeout',
      'receivers.otlp.http.endpoint',
      'receivers.otlp.grpc.endpoint',
      'receivers.otlp.unix.path',
      'receivers.otlp.unix.mode',
      'metrics.endpoint',
      'metrics.span_metrics.naming',
      'metrics.span_metrics.histogram_buckets',
      'metrics.span_metrics.dimensions',
      'metrics.max_series_per_metric',
      'metrics.rules',
      'export.otlp.endpoint',
      'export.otlp.protocol',
      'export.otlp.headers',
      'export.otlp.compression',
      'export.otlp.timeout',
      'export.file.directory',
      'storage.directory',
      'storage.max_queue_bytes',
      'debug.endpoint',
      'debug.token',
      'limits.memory_mib',
      'limits.max_request_bytes',
      'limits.max_connections',
      'shutdown_timeout',
    ]) {
      expect(table).toContain(`| \`${key}\` |`);
    }
  });
});
