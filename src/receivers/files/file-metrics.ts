/** The file receiver's metrics (SPEC.md §5), with every known label combination at 0 from start-up. */
import type { Counter } from 'prom-client';
import { ComponentMetrics } from '../../metrics/component-metrics.js';
import type { Telemetry } from '../../metrics/telemetry.js';
import type { RotationKind } from './tailed-file.js';

type Child = ReturnType<Counter<string>['labels']>;

export const ROTATION_KINDS: readonly RotationKind[] = ['rename', 'truncate', 'delete'];

export type SkipReason = 'binary' | 'unreadable';

export class FileMetrics {
  readonly bytesRead: Counter;
  readonly parseErrors: Counter;
  readonly linesTruncated: Counter;
  readonly invalidUtf8: Counter;
  readonly rotations: Record<RotationKind, Child>;
  readonly skipped: Record<SkipReason, Child>;
  readonly component: ComponentMetrics<never, 'read' | 'commit'>;

  constructor(telemetry: Telemetry) {
    this.bytesRead = telemetry.counter({ name: 'tracetail_log_bytes_read_total', help: 'Bytes read from log files.' });
    this.parseErrors = telemetry.counter({
      name: 'tracetail_log_parse_errors_total',
      help: 'Lines that did not parse in the configured logs.format; they are shipped as text.',
    });
    this.linesTruncated = telemetry.counter({
      name: 'tracetail_log_lines_truncated_total',
      help: 'Lines longer than logs.max_line_bytes, cut there (the rest continues as the next record).',
    });
    this.invalidUtf8 = telemetry.counter({
      name: 'tracetail_log_invalid_utf8_lines_total',
      help: 'Lines holding invalid UTF-8, shipped with U+FFFD in place of the invalid bytes.',
    });
    const rotations = telemetry.counter({
      name: 'tracetail_log_rotations_total',
      help: 'Log file rotations seen, by kind: rename (rename-and-create), truncate (copytruncate or in place), delete.',
      labelNames: ['kind'] as const,
    });
    this.rotations = children(rotations, 'kind', ROTATION_KINDS);
    const skipped = telemetry.counter({
      name: 'tracetail_log_files_skipped_total',
      help: 'Files matched by logs.include that are not read, by reason: binary (NUL bytes in the first block), unreadable (open failed; retried on change).',
      labelNames: ['reason'] as const,
    });
    this.skipped = children(skipped, 'reason', ['binary', 'unreadable'] as const);
    for (const c of [this.bytesRead, this.parseErrors, this.linesTruncated, this.invalidUtf8]) c.inc(0);
    this.component = new ComponentMetrics(telemetry, 'receiver/files', {
      discarded: {} as Record<never, { intentional: boolean }>,
      errorStages: ['read', 'commit'],
    });
  }
}

function children<T extends string>(counter: Counter<string>, label: string, values: readonly T[]): Record<T, Child> {
  const out = {} as Record<T, Child>;
  for (const v of values) {
    out[v] = counter.labels({ [label]: v });
    out[v].inc(0);
  }
  return out;
}
