/** The file receiver's metrics (the README's Metrics), with every known label combination at 0 from start-up. */
import type { Counter } from 'prom-client';
import { ComponentMetrics } from '../../metrics/component-metrics.js';
import { childrenAtZero, type Telemetry } from '../../metrics/telemetry.js';
import type { RotationKind } from './tailed-file.js';
import { METRICS } from '../../metrics/catalogue.js';

type Child = ReturnType<Counter<string>['labels']>;

export const ROTATION_KINDS: readonly RotationKind[] = ['rename', 'truncate', 'delete'];

export type SkipReason = 'binary' | 'unreadable';

export class FileMetrics {
  readonly bytesRead: Counter;
  readonly linesTruncated: Counter;
  readonly invalidUtf8: Counter;
  readonly rotations: Record<RotationKind, Child>;
  readonly skipped: Record<SkipReason, Child>;
  readonly component: ComponentMetrics<never, 'read' | 'commit'>;

  constructor(telemetry: Telemetry) {
    this.bytesRead = telemetry.counter(METRICS.logBytesRead);
    this.linesTruncated = telemetry.counter(METRICS.logLinesTruncated);
    this.invalidUtf8 = telemetry.counter(METRICS.logInvalidUtf8);
    const rotations = telemetry.counter(METRICS.logRotations);
    this.rotations = childrenAtZero(rotations, {}, 'kind', ROTATION_KINDS);
    const skipped = telemetry.counter(METRICS.logFilesSkipped);
    this.skipped = childrenAtZero(skipped, {}, 'reason', ['binary', 'unreadable'] as const);
    for (const c of [this.bytesRead, this.linesTruncated, this.invalidUtf8]) c.inc(0);
    this.component = new ComponentMetrics(telemetry, 'receiver/files', {
      discarded: {} as Record<never, { intentional: boolean }>,
      errorStages: ['read', 'commit'],
    });
  }
}
