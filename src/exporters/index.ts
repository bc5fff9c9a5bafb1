import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { Signal } from '../config/otel-env.js';
import { FileTransport } from './file-transport.js';
import type { Transport } from './transport.js';

/** The transport of each signal: OTLP/HTTP when an endpoint is configured, else the file exporter. */
export function buildTransports(config: Config): Record<Signal, Transport> {
  const directory = config.export.file.directory ?? join(config.storage.directory, 'export');
  let file: FileTransport | undefined;
  const fileTransport = () => (file ??= new FileTransport(directory, config.export.file.max_file_bytes));
  return {
    traces: fileTransport(),
    logs: fileTransport(),
    metrics: fileTransport(),
  };
}
