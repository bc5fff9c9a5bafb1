import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { SIGNALS, type Signal } from '../otlp/signals.js';
import { FileTransport } from './file-transport.js';
import { OtlpHttpTransport } from './otlp-http-transport.js';
import type { BatchOptions } from './queue-sender.js';
import type { RetryPolicyOptions } from './retry-policy.js';
import type { Transport } from './transport.js';

/** Where the file exporter writes: `export.file.directory`, else `export/` in the storage directory. */
export function fileExportDirectory(config: Config): string {
  return config.export.file.directory ?? join(config.storage.directory, 'export');
}

/** The transport of each signal: OTLP/HTTP when an endpoint is configured, else the file exporter. */
export function buildTransports(config: Config): Record<Signal, Transport> {
  const { max_file_bytes, max_files } = config.export.file;
  let file: FileTransport | undefined;
  const fileTransport = () => (file ??= new FileTransport(fileExportDirectory(config), max_file_bytes, max_files));
  const out = {} as Record<Signal, Transport>;
  for (const signal of SIGNALS) {
    const target = config.exportTargets[signal];
    out[signal] = target ? new OtlpHttpTransport({ target, maxSockets: config.export.concurrency }) : fileTransport();
  }
  return out;
}

/** `export.batch` with the signal's overrides applied. */
export function batchOptions(config: Config, signal: Signal): BatchOptions {
  const b = config.export.batch;
  const o = b[signal];
  return {
    maxItems: o?.max_items ?? b.max_items,
    maxBytes: o?.max_bytes ?? b.max_bytes,
    timeoutMs: o?.timeout ?? b.timeout,
  };
}

export function retryOptions(config: Config): RetryPolicyOptions {
  const { retry, breaker } = config.export;
  return {
    initialMs: retry.initial_interval,
    maxMs: retry.max_interval,
    multiplier: retry.multiplier,
    jitter: retry.randomization_factor,
    failureThreshold: breaker.failure_threshold,
    probeIntervalMs: breaker.probe_interval,
  };
}
