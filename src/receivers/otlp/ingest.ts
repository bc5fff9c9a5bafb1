/**
 * What OTLP/HTTP and OTLP/gRPC share once a request body is in memory: decode it with the codec,
 * refuse invalid items (partial success), hand the batch to the pipeline and wait until it is
 * durable. The transports only map the outcome to their status codes. A protobuf trace request
 * from which nothing was refused travels with its body (`TraceBatch.encoded`), which the queue
 * stores as it is; metrics are always forwarded as received.
 *
 * Pushing back: `consume()` rejects with a backpressure error when the sidecar cannot take the
 * batch now (nothing of it was kept). The queue being full (the backend is down or slow) and the
 * sidecar stopping are "service unavailable" (HTTP 503, gRPC UNAVAILABLE); the memory limit is
 * "too many requests at once" (HTTP 429, gRPC RESOURCE_EXHAUSTED). Both are retryable for OTLP
 * clients and carry the error's `retryAfterMs` (HTTP `Retry-After`, gRPC `RetryInfo`).
 */
import type { MemoryReservation } from '../../component.js';
import type { GraphContext } from '../receiver.js';
import type { Signal } from '../../otlp/signals.js';
import { DecodeError, MemoryLimitError, PayloadTooLargeError, RequestTimeoutError, RETRY_AFTER_MS, isBackpressure } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../logger.js';
import { RpcCode, countItems, countMetricDataPoints, decodeRequest, encodeRequest, type WireFormat } from '../../otlp/codec.js';
import type { PartialSuccess } from '../../otlp/types.js';
import type { TraceBatch } from '../../pipeline/batches.js';
import type { OtlpTransport, TransportMetrics } from './otlp-metrics.js';
import { rejectInvalidLogRecords, rejectInvalidSpans, type Rejection } from './validate.js';

const NO_RESERVATION: MemoryReservation = { grow: () => undefined, release: () => undefined };

export interface Accepted {
  /** Items kept (durable). */
  accepted: number;
  partial?: PartialSuccess;
}

/** Why a request was refused, in the terms of both transports. */
export interface Refusal {
  httpStatus: number;
  rpcCode: number;
  /** Label value of `tracetail_otlp_requests_total{code}` on the gRPC transport. */
  rpcName: keyof typeof RpcCode;
  message: string;
  retryAfterMs?: number;
}

export class OtlpIngest {
  private readonly limitedLog: RateLimitedLog;

  constructor(
    readonly transport: OtlpTransport,
    private readonly consumers: Omit<GraphContext['consumers'], 'files'>,
    readonly metrics: TransportMetrics,
    log: Logger,
    /** Reserves memory for a request of that many bytes until its release; throws a backpressure error when the sidecar must not take it now (memory limit). */
    readonly reserve: (bytes: number) => MemoryReservation = () => NO_RESERVATION,
  ) {
    this.limitedLog = new RateLimitedLog(log);
  }

  /** Decode, validate and hand on one request body; resolves once the items are durable. */
  async ingest(signal: Signal, body: Buffer, format: WireFormat): Promise<Accepted> {
    const transport = this.transport;
    this.metrics.requestSize[signal].observe(body.byteLength);
    switch (signal) {
      case 'traces': {
        const encodedItems: number[] = [];
        const req = decodeRequest('traces', body, format, encodedItems);
        const rejection = rejectInvalidSpans(req);
        const accepted = countItems('traces', req);
        // A protobuf body that lost no span goes into the queue as received, not encoded again
        // (the spans are still decoded: the id check and the observers need them).
        const batch: TraceBatch = format === 'protobuf' && !rejection ? { resourceSpans: req.resourceSpans, encoded: body, encodedItems, transport } : { resourceSpans: req.resourceSpans, transport };
        if (accepted > 0) await this.consumers.traces.consume(batch);
        this.metrics.spansReceived.inc(accepted);
        return { accepted, partial: this.partial('traces', rejection) };
      }
      case 'logs': {
        const req = decodeRequest('logs', body, format);
        const rejection = rejectInvalidLogRecords(req);
        const accepted = countItems('logs', req);
        if (accepted > 0) await this.consumers.logs.consume({ resourceLogs: req.resourceLogs, transport });
        return { accepted, partial: this.partial('logs', rejection) };
      }
      case 'metrics': {
        // Forwarded as received; the queue stores protobuf, so JSON is converted once.
        let payload: Uint8Array = body;
        let items: number;
        if (format === 'protobuf') {
          items = countMetricDataPoints(body);
        } else {
          const req = decodeRequest('metrics', body, 'json');
          items = countItems('metrics', req);
          payload = encodeRequest('metrics', req);
        }
        if (items > 0) await this.consumers.metrics.consume({ payload, items, transport });
        return { accepted: items };
      }
    }
  }

  private partial(signal: 'traces' | 'logs', rejection: Rejection | undefined): PartialSuccess | undefined {
    if (!rejection) return undefined;
    this.metrics.rejected[signal].invalid_id.inc(rejection.rejected);
    const what = signal === 'traces' ? 'spans' : 'log records';
    const errorMessage = `rejected ${rejection.rejected} ${what} with invalid ids; first: ${rejection.firstReason}`;
    this.limitedLog.warn(`rejected-${signal}`, { transport: this.transport, signal, rejected: rejection.rejected }, errorMessage);
    return { rejected: rejection.rejected, errorMessage };
  }

  /** The response to a failed request; unexpected errors are logged (once per interval). */
  refusal(err: unknown, signal: Signal | 'unknown'): Refusal {
    if (err instanceof DecodeError) return { httpStatus: 400, rpcCode: RpcCode.INVALID_ARGUMENT, rpcName: 'INVALID_ARGUMENT', message: err.message };
    if (err instanceof PayloadTooLargeError) return { httpStatus: 413, rpcCode: RpcCode.RESOURCE_EXHAUSTED, rpcName: 'RESOURCE_EXHAUSTED', message: err.message };
    if (err instanceof RequestTimeoutError) return { httpStatus: 408, rpcCode: RpcCode.UNAVAILABLE, rpcName: 'UNAVAILABLE', message: err.message };
    if (isBackpressure(err)) {
      this.limitedLog.warn(`backpressure-${err.code}`, { transport: this.transport, signal, reason: err.code }, `pushing back on OTLP clients: ${err.message}`);
      const retryAfterMs = Math.max(RETRY_AFTER_MS.clientMinimum, err.retryAfterMs);
      return err instanceof MemoryLimitError
        ? { httpStatus: 429, rpcCode: RpcCode.RESOURCE_EXHAUSTED, rpcName: 'RESOURCE_EXHAUSTED', message: err.message, retryAfterMs }
        : { httpStatus: 503, rpcCode: RpcCode.UNAVAILABLE, rpcName: 'UNAVAILABLE', message: err.message, retryAfterMs };
    }
    this.limitedLog.error(`internal-${signal}`, { err, transport: this.transport, signal }, 'OTLP request failed');
    return { httpStatus: 500, rpcCode: RpcCode.INTERNAL, rpcName: 'INTERNAL', message: 'internal error; see the tracetail log' };
  }
}
