/**
 * Reading an OTLP/HTTP request body within `limits.max_request_bytes` (measured after
 * decompression) and `limits.body_timeout`.
 *
 * Compressed bodies are inflated as they stream in and the output is counted as it comes, so a
 * gzip bomb is stopped as soon as it passes the limit. The inflated output is kept only up to
 * SPILL_BYTES: a body that inflates to more than that is counted to its end without being kept,
 * and, when it turns out to be within the limit, inflated again from the compressed bytes (which
 * are kept, and are themselves within the limit). So however large the limit, a request that is
 * refused never holds more than SPILL_BYTES of inflated data plus its compressed bytes.
 */
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import { DecodeError, PayloadTooLargeError, RequestTimeoutError } from '../../errors.js';
import { chunksRead } from '../../garbage-collection.js';

export type ContentEncoding = 'identity' | 'gzip' | 'deflate';

const SPILL_BYTES = 8 * 1024 * 1024;
const INFLATE_CHUNK = 64 * 1024;

/** The request went away before its body was read (nothing to answer). */
export class ClientGoneError extends Error {}

export interface BodyLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** The `Content-Encoding` of a request, or undefined when it is not one we take. */
export function contentEncoding(header: string | undefined): ContentEncoding | undefined {
  if (header === undefined) return 'identity';
  switch (header.trim().toLowerCase()) {
    case '':
    case 'identity':
      return 'identity';
    case 'gzip':
    case 'x-gzip':
      return 'gzip';
    case 'deflate':
      return 'deflate';
    default:
      return undefined;
  }
}

export function readBody(req: IncomingMessage, encoding: ContentEncoding, limits: BodyLimits): Promise<Buffer> {
  return encoding === 'identity' ? readPlain(req, limits) : readCompressed(req, encoding, limits);
}

function tooLarge(maxBytes: number, what = 'request body'): PayloadTooLargeError {
  return new PayloadTooLargeError(`${what} is larger than limits.max_request_bytes (${maxBytes} bytes)`);
}

function timedOut(timeoutMs: number): RequestTimeoutError {
  return new RequestTimeoutError(`request body not received within limits.body_timeout (${timeoutMs} ms)`);
}

/** Listen to the request until `finish` is called once; returns that `finish`. */
function track(req: IncomingMessage, limits: BodyLimits, onData: (chunk: Buffer) => void, onEnd: () => void, settle: (err: Error | null, body?: Buffer) => void) {
  let settled = false;
  const timer = setTimeout(() => finish(timedOut(limits.timeoutMs)), limits.timeoutMs);
  const onError = () => finish(new ClientGoneError('request aborted'));
  const onClose = () => {
    if (!req.complete) finish(new ClientGoneError('connection closed before the body was complete'));
  };
  function finish(err: Error | null, body?: Buffer): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    req.off('close', onClose);
    settle(err, body);
  }
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  req.on('close', onClose);
  return finish;
}

function readPlain(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = track(
      req,
      limits,
      (chunk) => {
        size += chunk.length;
        if (size > limits.maxBytes) return finish(tooLarge(limits.maxBytes));
        chunks.push(chunk);
      },
      () => {
        if (chunks.length === 1) return finish(null, chunks[0]);
        const body = Buffer.concat(chunks, size);
        chunks.length = 0;
        chunksRead(size);
        finish(null, body);
      },
      (err, body) => (err ? reject(err) : resolve(body!)),
    );
  });
}

function readCompressed(req: IncomingMessage, encoding: 'gzip' | 'deflate', limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const { maxBytes } = limits;
    const spillAt = Math.min(maxBytes, SPILL_BYTES);
    const inflater = encoding === 'gzip' ? zlib.createGunzip({ chunkSize: INFLATE_CHUNK }) : zlib.createInflate({ chunkSize: INFLATE_CHUNK });
    const compressed: Buffer[] = [];
    let compressedSize = 0;
    const inflated: Buffer[] = [];
    let inflatedSize = 0;
    let spilled = false;

    const finish = track(
      req,
      limits,
      (chunk) => {
        compressedSize += chunk.length;
        if (compressedSize > maxBytes) return finish(tooLarge(maxBytes, 'compressed request body'));
        compressed.push(chunk);
        if (!inflater.write(chunk)) req.pause();
      },
      () => inflater.end(),
      (err, body) => {
        inflater.off('drain', onDrain);
        inflater.off('data', onInflated);
        inflater.off('end', onInflateEnd);
        if (err) {
          inflater.destroy();
          req.resume();
          reject(err);
        } else {
          resolve(body!);
        }
      },
    );

    const onDrain = () => req.resume();
    const onInflated = (out: Buffer) => {
      inflatedSize += out.length;
      if (inflatedSize > maxBytes) return finish(tooLarge(maxBytes));
      if (spilled) return;
      if (inflatedSize > spillAt) {
        spilled = true;
        inflated.length = 0;
      } else {
        inflated.push(out);
      }
    };
    const onInflateEnd = () => {
      if (!spilled) return finish(null, Buffer.concat(inflated, inflatedSize));
      const input = Buffer.concat(compressed, compressedSize);
      compressed.length = 0;
      const inflate = encoding === 'gzip' ? zlib.gunzip : zlib.inflate;
      inflate(input, { maxOutputLength: maxBytes }, (err, out) => (err ? finish(new DecodeError(`invalid ${encoding} body: ${err.message}`)) : finish(null, out)));
    };
    inflater.on('drain', onDrain);
    inflater.on('data', onInflated);
    inflater.on('end', onInflateEnd);
    inflater.on('error', (err) => finish(new DecodeError(`invalid ${encoding} body: ${err.message}`)));
  });
}
