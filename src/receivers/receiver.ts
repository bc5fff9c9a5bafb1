import type { Component, Consumer } from '../component.js';
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
  /** Throws MemoryLimitError (with retryAfterMs) while memory is above limits.memory_mib: check before reading a large body. */
  admit?: () => void;
  consumers: {
    /** Raw records read from files, to the parse stage. */
    files: Consumer<RawLogBatch>;
    logs: Consumer<LogBatch>;
    traces: Consumer<TraceBatch>;
    metrics: Consumer<MetricBatch>;
  };
}
