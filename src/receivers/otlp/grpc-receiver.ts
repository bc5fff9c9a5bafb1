/**
 * OTLP/gRPC on `receivers.otlp.grpc.endpoint` (TCP, or `unix:/path`): the trace, logs and metrics
 * Export services through @grpc/grpc-js.
 *
 * The listening socket is our own net.Server whose connections are handed to grpc-js through a
 * connection injector: the same listen code as OTLP/HTTP (Unix socket handling, the listener
 * line) and a real per-listener connection cap (`limits.max_connections`), which grpc-js lacks.
 * Messages reach the handler as raw bytes (identity deserializer) and are decoded by the shared
 * codec in ingest.ts, so a bad message is INVALID_ARGUMENT with the reason instead of a generic
 * INTERNAL from a throwing deserializer. grpc-js inflates gzip/deflate messages itself and enforces
 * `limits.max_request_bytes` on the inflated size (RESOURCE_EXHAUSTED past it).
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { SIGNALS, type Signal } from '../../otlp/signals.js';
import type { ListenAddress } from '../../config/schema.js';
import type { Logger } from '../../logger.js';
import { encodeResponse, encodeStatus, grpcMethodPath } from '../../otlp/codec.js';
import type { OtlpIngest } from './ingest.js';
import { ListeningReceiver, Listener } from './listen.js';

const SHUTDOWN_GRACE_MS = 2000;
/** Idle connections are closed (GOAWAY) after this; clients reconnect transparently. */
const MAX_CONNECTION_IDLE_MS = 120_000;

export interface OtlpGrpcReceiverOptions {
  configKey: string;
  address: ListenAddress;
  socketMode?: number;
  ingest: OtlpIngest;
  limits: { maxRequestBytes: number; maxConnections: number };
  log: Logger;
}

export class OtlpGrpcReceiver extends ListeningReceiver {
  private readonly grpcServer: grpc.Server;
  private readonly netServer: NetServer;
  private readonly sockets = new Set<Socket>();
  protected readonly listener: Listener;

  constructor(private readonly o: OtlpGrpcReceiverOptions) {
    super('receiver/otlp-grpc');
    this.grpcServer = new grpc.Server({
      'grpc.max_receive_message_length': o.limits.maxRequestBytes,
      'grpc.max_concurrent_streams': 100,
      'grpc.max_connection_idle_ms': MAX_CONNECTION_IDLE_MS,
      'grpc.enable_channelz': 0,
    });
    for (const signal of SIGNALS) this.addExportService(signal);
    const injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.netServer = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      injector.injectConnection(socket);
    });
    this.listener = new Listener(this.netServer, { ...o, maxConnections: o.limits.maxConnections, onRefused: () => o.ingest.metrics.connectionsRefused.inc() });
  }

  protected async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.netServer.close(() => resolve()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpcServer.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      timer.unref();
      this.grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private addExportService(signal: Signal): void {
    const { ingest } = this.o;
    const { metrics } = ingest;
    const definition: grpc.ServiceDefinition = {
      Export: {
        path: grpcMethodPath(signal),
        requestStream: false,
        responseStream: false,
        requestDeserialize: (bytes: Buffer) => bytes,
        requestSerialize: (bytes: Buffer) => bytes,
        responseSerialize: (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        responseDeserialize: (bytes: Buffer) => bytes,
      },
    };
    const emptyResponse = encodeResponse(signal, undefined, 'protobuf');
    const exportCall: grpc.handleUnaryCall<Buffer, Uint8Array> = (call, callback) => {
      ingest.ingest(signal, call.request, 'protobuf').then(
        ({ partial }) => {
          metrics.request(signal, 'OK').inc();
          callback(null, partial ? encodeResponse(signal, partial, 'protobuf') : emptyResponse);
        },
        (err: unknown) => {
          const r = ingest.refusal(err, signal);
          metrics.request(signal, r.rpcName).inc();
          const metadata = new grpc.Metadata();
          if (r.retryAfterMs !== undefined) {
            metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus({ code: r.rpcCode, message: r.message, retryAfterMs: r.retryAfterMs }, 'protobuf')));
            metadata.set('grpc-retry-pushback-ms', String(r.retryAfterMs));
          }
          callback({ code: r.rpcCode, details: r.message, metadata });
        },
      );
    };
    this.grpcServer.addService(definition, { Export: exportCall });
  }
}
