import type { Component, Consumer, MemoryReservation } from '../component.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { Telemetry } from '../metrics/telemetry.js';
import type { LogBatch, MetricBatch, RawLogBatch, TraceBatch } from '../pipeline/batches.js';
import type { Checkpoints } from '../pipeline/checkpoints.js';

/** A source of batches. `ready` is true once it is bound and taking input (for /readyz). */
export interface Receiver extends Component {
  readonly ready: boolean;
}

/** What a component of the graph may use. */
export interface GraphContext {
  config: Config;
  log: Logger;
  telemetry: Telemetry;
  /** The read positions of sources (the logs queue writer keeps them). */
  checkpoints: Checkpoints;
  /**
   * Reserves memory for a request of `bytes` before its body is read, until its release: throws
   * MemoryLimitError (with retryAfterMs) while it does not fit under limits.memory_mib,
   * PayloadTooLargeError when it never could (MemoryGuard.reserve).
   */
  reserve?: (bytes: number) => MemoryReservation;
  consumers: {
    /** Raw records read from files, to the parse stage. */
    files: Consumer<RawLogBatch>;
    logs: Consumer<LogBatch>;
    traces: Consumer<TraceBatch>;
    metrics: Consumer<MetricBatch>;
  };
}
