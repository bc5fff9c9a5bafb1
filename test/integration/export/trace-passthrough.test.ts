/**
 * Spans received as OTLP protobuf go into the export queue as the bytes that were received (after
 * decompression), through the real sidecar: OTLP/HTTP and OTLP/gRPC on Unix sockets, the trace
 * pipeline, the queue writer, the SQLite queue. A request that lost spans to the id check and a
 * JSON request are encoded from the decoded spans instead, and all of them, concatenated into one
 * export request, reach the collector. A pipeline with processors never stores received bytes.
 */
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { QueueWriter } from '../../../src/exporters/queue-writer.js';
import { decodeRequest, decodeResponse, encodeRequest, grpcMethodPath, toJsonObject } from '../../../src/otlp/codec.js';
import type { ExportTraceServiceRequest } from '../../../src/otlp/types.js';
import type { TraceBatch } from '../../../src/pipeline/batches.js';
import { Pipeline, type Processor } from '../../../src/pipeline/pipeline.js';
import { Store, type QueueEntry } from '../../../src/storage/store.js';
import { tempDir } from '../../helpers/cli.js';
import { TestCollector } from '../../helpers/collector.js';
import { exportConfig, seqOf, startSidecar, stoppedAfterEach, tally, traceBatch } from '../../helpers/export-harness.js';
import { canonSpan, request } from '../otlp/harness.js';

const started = stoppedAfterEach();

/** Spans first .. first + count - 1 as an ExportTraceServiceRequest. */
const spansRequest = (first: number, count: number): ExportTraceServiceRequest => ({ resourceSpans: traceBatch(first, count).resourceSpans });

/**
 * Field 31 (length-delimited) of ExportTraceServiceRequest, which OTLP does not define: what a
 * newer client might send. Decoding skips it; encoding the decoded spans again would lose it.
 */
const UNKNOWN_FIELD = Buffer.concat([Buffer.from([0xfa, 0x01, 9]), Buffer.from('from-v2.0')]);

function grpcExport(target: string, body: Uint8Array): Promise<void> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      grpcMethodPath('traces'),
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      (err) => {
        client.close();
        if (err) reject(err);
        else resolve();
      },
    );
  });
}

function queuedTraces(stateDir: string): QueueEntry[] {
  const store = Store.open(stateDir, { maxQueueBytes: 1 << 30 });
  try {
    return store.peek('traces', 0, 1_000_000, 1 << 30);
  } finally {
    store.close();
  }
}

const spanNames = (payload: Uint8Array) => decodeRequest('traces', payload, 'protobuf').resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)));

describe('spans received as OTLP protobuf', () => {
  it('are queued as received; a request with a refused span and a JSON request are encoded; all export as one request', async () => {
    const collector = (started.collector = await TestCollector.start({ down: true }));
    const dir = tempDir();
    const httpSocket = join(dir, 'run', 'otlp.sock');
    const grpcSocket = join(dir, 'run', 'otlp-grpc.sock');
    const config = exportConfig(dir, collector.url, { receivers: { otlp: { unix: { path: httpSocket }, grpc: { endpoint: `unix:${grpcSocket}` } } } });
    const first = await startSidecar(config);
    started.sidecars.push(first);

    // 1. protobuf over HTTP, gzip, with a field tracetail does not know.
    const httpBody = Buffer.concat([encodeRequest('traces', spansRequest(0, 3)), UNKNOWN_FIELD]);
    const r1 = await request(httpSocket, { path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body: gzipSync(httpBody) });
    expect(r1.status).toBe(200);

    // 2. protobuf over gRPC, the unknown field first.
    const grpcBody = Buffer.concat([UNKNOWN_FIELD, encodeRequest('traces', spansRequest(3, 2))]);
    await grpcExport(`unix:${grpcSocket}`, grpcBody);

    // 3. protobuf with a span whose span_id is all zero: refused, the rest kept.
    const withInvalid = spansRequest(5, 3);
    withInvalid.resourceSpans[0].scopeSpans[0].spans[1].spanId = Buffer.alloc(8);
    const invalidBody = Buffer.concat([encodeRequest('traces', withInvalid), UNKNOWN_FIELD]);
    const r3 = await request(httpSocket, { path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, body: invalidBody });
    expect(r3.status).toBe(200);
    expect(decodeResponse('traces', r3.body, 'protobuf')).toMatchObject({ rejected: 1 });

    // 4. OTLP JSON.
    const jsonRequest = spansRequest(8, 2);
    const r4 = await request(httpSocket, { path: '/v1/traces', headers: { 'content-type': 'application/json' }, body: JSON.stringify(toJsonObject('traces', jsonRequest)) });
    expect(r4.status).toBe(200);

    await first.sidecar.stop(Date.now() + 2000);
    const entries = queuedTraces(config.storage.directory);
    expect(entries.map((e) => e.items)).toEqual([3, 2, 2, 2]);
    // Byte for byte what was received (the HTTP body after decompression), unknown field included.
    expect(Buffer.compare(entries[0].payload, httpBody)).toBe(0);
    expect(Buffer.compare(entries[1].payload, grpcBody)).toBe(0);
    // The refused span is not in the queue: the kept spans were encoded (so the unknown field is gone).
    expect(spanNames(entries[2].payload)).toEqual(['span 5', 'span 7']);
    expect(entries[2].payload.includes(Buffer.from('from-v2.0'))).toBe(false);
    // JSON: encoded from the decoded spans, every field as sent.
    const queuedJson = decodeRequest('traces', entries[3].payload, 'protobuf').resourceSpans[0].scopeSpans[0].spans;
    expect(queuedJson.map(canonSpan)).toEqual(jsonRequest.resourceSpans[0].scopeSpans[0].spans.map(canonSpan));

    // The backend comes back: the four entries, received and encoded ones concatenated, are one
    // request that decodes to every kept span.
    await collector.up();
    const second = await startSidecar(config);
    started.sidecars.push(second);
    await collector.waitForItems('traces', 9);
    expect(tally(collector.spans().map(seqOf), 10)).toEqual({ missing: [6], duplicates: 0, unexpected: [] });
    expect(collector.accepted('traces')).toHaveLength(1);
  });
});

describe('a trace pipeline with processors', () => {
  const rename: Processor<TraceBatch> = {
    name: 'rename',
    process(batch) {
      for (const rs of batch.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) s.name = `renamed ${s.name}`;
      return batch;
    },
  };

  it('drops the received bytes before the processors run, so the queue stores what they return', async () => {
    const store = Store.open(join(tempDir(), 'state'), { maxQueueBytes: 1 << 26 });
    try {
      const writer = new QueueWriter('traces', store);
      const received = encodeRequest('traces', spansRequest(0, 2));
      const batch: TraceBatch = { resourceSpans: decodeRequest('traces', received, 'protobuf').resourceSpans, encoded: received, transport: 'http' };
      const seen: TraceBatch[] = [];

      await new Pipeline<TraceBatch>(writer, [rename], [{ name: 'spy', observe: (b) => seen.push(b) }]).consume(batch);
      const [entry] = store.peek('traces', 0, 100, 1 << 20);
      expect(spanNames(entry.payload)).toEqual(['renamed span 0', 'renamed span 1']);
      expect(seen[0].encoded).toBeUndefined();
      expect(batch.encoded).toBe(received); // the caller's batch is not changed

      // Without processors the same kind of batch is stored as received.
      const again = encodeRequest('traces', spansRequest(2, 1));
      await new Pipeline<TraceBatch>(writer).consume({ resourceSpans: decodeRequest('traces', again, 'protobuf').resourceSpans, encoded: again, transport: 'http' });
      const entries = store.peek('traces', entry.id, 100, 1 << 20);
      expect(entries.map((e) => Buffer.compare(e.payload, again))).toEqual([0]);
      expect(entries[0].items).toBe(1);
    } finally {
      store.close();
    }
  });
});
