/** The OTLP receivers the config enables: HTTP on TCP, HTTP on a Unix socket, gRPC. */
import type { Receiver, GraphContext } from '../receiver.js';
import { OtlpGrpcReceiver } from './grpc-receiver.js';
import { OtlpHttpReceiver } from './http-receiver.js';
import { OtlpIngest } from './ingest.js';
import { TransportMetrics, type OtlpTransport } from './otlp-metrics.js';

export type OtlpReceiverContext = Pick<GraphContext, 'config' | 'log' | 'telemetry' | 'reserve'> & { consumers: Omit<GraphContext['consumers'], 'files'> };

export function buildOtlpReceivers(ctx: OtlpReceiverContext): Receiver[] {
  const { config, telemetry, consumers } = ctx;
  const otlp = config.receivers.otlp;
  const limits = config.limits;
  const ingestFor = (transport: OtlpTransport) => {
    const log = ctx.log.child({ component: `receiver/otlp-${transport}` });
    return { log, ingest: new OtlpIngest(transport, consumers, new TransportMetrics(telemetry, transport), log, ctx.reserve) };
  };
  const httpLimits = {
    maxRequestBytes: limits.max_request_bytes,
    maxConnections: limits.max_connections,
    headerTimeoutMs: limits.header_timeout,
    bodyTimeoutMs: limits.body_timeout,
  };
  const receivers: Receiver[] = [];
  if (otlp.http?.endpoint) {
    receivers.push(new OtlpHttpReceiver({ configKey: 'receivers.otlp.http.endpoint', address: otlp.http.endpoint, limits: httpLimits, ...ingestFor('http') }));
  }
  if (otlp.unix?.path) {
    receivers.push(
      new OtlpHttpReceiver({ configKey: 'receivers.otlp.unix.path', address: { path: otlp.unix.path }, socketMode: otlp.unix.mode, limits: httpLimits, ...ingestFor('unix') }),
    );
  }
  if (otlp.grpc?.endpoint) {
    receivers.push(
      new OtlpGrpcReceiver({
        configKey: 'receivers.otlp.grpc.endpoint',
        address: otlp.grpc.endpoint,
        socketMode: otlp.unix?.mode,
        limits: { maxRequestBytes: limits.max_request_bytes, maxConnections: limits.max_connections },
        ...ingestFor('grpc'),
      }),
    );
  }
  return receivers;
}
