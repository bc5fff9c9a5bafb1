/**
 * `google.rpc.Status`, the body of an OTLP/HTTP error response (opentelemetry-proto
 * docs/specification.md, "Failures"): protobuf or its JSON form, `{ code, message, details }`.
 * `details` are ignored.
 */
import protobuf from 'protobufjs';
import type { WireFormat } from './codec.js';

const statusType = protobuf
  .parse('syntax = "proto3"; package google.rpc; message Status { int32 code = 1; string message = 2; }')
  .root.lookupType('google.rpc.Status');

export interface RpcStatus {
  code: number;
  message: string;
}

export function encodeStatus(status: RpcStatus, format: WireFormat): Uint8Array {
  if (format === 'json') return Buffer.from(JSON.stringify(status));
  return statusType.encode(statusType.fromObject(status)).finish();
}

/** The status in an error response body, or undefined when the body is not one. */
export function decodeStatus(body: Uint8Array, format: WireFormat): RpcStatus | undefined {
  if (body.byteLength === 0) return undefined;
  try {
    const obj = (
      format === 'json'
        ? JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
        : statusType.toObject(statusType.decode(body), { defaults: true })
    ) as Partial<RpcStatus> | null;
    if (!obj || typeof obj !== 'object' || typeof obj.message !== 'string') return undefined;
    return { code: Number(obj.code ?? 0), message: obj.message };
  } catch {
    return undefined;
  }
}
