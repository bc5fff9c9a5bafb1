/**
 * One catalogue of error classes with stable codes. Callers branch on the class or on `code`,
 * never on message text.
 */
export abstract class TracetailError extends Error {
  abstract readonly code: string;
  /** True when trying again later may succeed (backpressure, transient I/O). */
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The configuration is invalid; `path` is the dotted key path ("logs.start_at"). */
export class ConfigError extends TracetailError {
  readonly code = 'TT_CONFIG';
  constructor(
    readonly issues: readonly { path: string; message: string }[],
    options?: { cause?: unknown },
  ) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'), options);
  }
}

/** The command line cannot be understood (exit code 2). */
export class UsageError extends TracetailError {
  readonly code = 'TT_USAGE';
}

/** The environment cannot be used: a port taken, a directory not writable (exit code 1). */
export class EnvironmentError extends TracetailError {
  readonly code = 'TT_ENVIRONMENT';
}

/**
 * Retry-After of each backpressure refusal, in ms, and the shortest told to an OTLP client (HTTP
 * `Retry-After` is in whole seconds). A full queue or disk drains at the backend's pace, so its
 * clients come back later than after a memory peak, which one garbage collection may end.
 */
export const RETRY_AFTER_MS = { queueFull: 5000, storage: 5000, memoryLimit: 1000, stopping: 1000, clientMinimum: 1000 } as const;

/** Backpressure: the durable queue is at `storage.max_queue_bytes`. */
export class QueueFullError extends TracetailError {
  readonly code = 'TT_QUEUE_FULL';
  override readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** Backpressure: the process is above `limits.memory_mib`. */
export class MemoryLimitError extends TracetailError {
  readonly code = 'TT_MEMORY_LIMIT';
  override readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * Backpressure: the storage directory cannot take the batch. `TT_STORAGE_FULL`: its filesystem is
 * full (ENOSPC, a quota, SQLITE_FULL); `TT_STORAGE_ERROR`: it fails otherwise (read-only,
 * permissions, I/O errors). Nothing of the batch was kept; the sender tries again later.
 */
export class StorageError extends TracetailError {
  override readonly retryable = true;
  constructor(
    readonly code: 'TT_STORAGE_FULL' | 'TT_STORAGE_ERROR',
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The pipeline is stopping and takes no more input. */
export class StoppedError extends TracetailError {
  readonly code = 'TT_STOPPED';
  override readonly retryable = true;
  readonly retryAfterMs = RETRY_AFTER_MS.stopping;
}

/** A request body could not be decoded as OTLP. */
export class DecodeError extends TracetailError {
  readonly code = 'TT_DECODE';
}

/** A request body is larger than `limits.max_request_bytes` (after decompression). */
export class PayloadTooLargeError extends TracetailError {
  readonly code = 'TT_PAYLOAD_TOO_LARGE';
}

/** A client did not send its request in time (`limits.header_timeout`, `limits.body_timeout`). */
export class RequestTimeoutError extends TracetailError {
  readonly code = 'TT_REQUEST_TIMEOUT';
}

export type BackpressureError = QueueFullError | StorageError | MemoryLimitError | StoppedError;

export function isBackpressure(err: unknown): err is BackpressureError {
  return err instanceof QueueFullError || err instanceof StorageError || err instanceof MemoryLimitError || err instanceof StoppedError;
}
