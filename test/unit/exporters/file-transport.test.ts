import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FileTransport } from '../../../src/exporters/file-transport.js';
import { encodeRequest } from '../../../src/otlp/codec.js';
import { tempDir } from '../../helpers/cli.js';
import { logBatch, tally } from '../../helpers/export-harness.js';

describe('FileTransport rotation', () => {
  it('keeps every rotated file when rotations come faster than one per millisecond', async () => {
    const dir = tempDir();
    const transport = new FileTransport(dir, 1); // every write rotates the previous file
    for (let i = 0; i < 200; i++) {
      expect(await transport.send('logs', encodeRequest('logs', logBatch(i, 1)))).toEqual({ kind: 'success' });
    }
    await transport.close();
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(200);
    const seqs = files.flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .flatMap((line) => (JSON.parse(line) as { resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: { intValue: string } }[] }[] }[] }[] }).resourceLogs)
        .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => Number(r.attributes.find((a) => a.key === 'seq')?.value.intValue)))),
    );
    expect(tally(seqs, 200)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    // Names sort in write order.
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});

describe('FileTransport retention', () => {
  it('keeps max_files files per signal, the newest, also counting files left by an earlier run', async () => {
    const dir = tempDir();
    // Left by an earlier run: older than anything written now, and another signal's.
    for (const name of ['logs-2020-01-01T00-00-00-000Z.jsonl', 'logs-2020-01-01T00-00-00-001Z.jsonl', 'traces-2020-01-01T00-00-00-000Z.jsonl', 'notes.txt']) writeFileSync(join(dir, name), '{}\n');
    const transport = new FileTransport(dir, 1, 3); // every write rotates the previous file
    for (let i = 0; i < 10; i++) {
      expect(await transport.send('logs', encodeRequest('logs', logBatch(i, 1)))).toEqual({ kind: 'success' });
    }
    await transport.close();
    const logs = readdirSync(dir).filter((f) => f.startsWith('logs')).sort();
    expect(logs).toHaveLength(3);
    expect(logs).toContain('logs.jsonl');
    const seqOf = (f: string) => Number(JSON.parse(readFileSync(join(dir, f), 'utf8')).resourceLogs[0].scopeLogs[0].logRecords[0].attributes.find((a: { key: string }) => a.key === 'seq').value.intValue);
    // The current file holds the last write, the two rotated ones the two before it.
    expect(logs.map(seqOf).sort((a, b) => a - b)).toEqual([7, 8, 9]);
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['traces-2020-01-01T00-00-00-000Z.jsonl', 'notes.txt']));
  });
});

describe('FileTransport payloads', () => {
  it('writes a payload in parts, some kept gzip-compressed by the queue, as one request', async () => {
    const dir = tempDir();
    const transport = new FileTransport(dir, 1 << 20);
    const parts = [encodeRequest('logs', logBatch(0, 5)), gzipSync(encodeRequest('logs', logBatch(5, 5))), encodeRequest('logs', logBatch(10, 5))];
    expect(await transport.send('logs', parts)).toEqual({ kind: 'success' });
    await transport.close();
    const [file] = readdirSync(dir);
    const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const records = (JSON.parse(lines[0]) as { resourceLogs: { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[] }).resourceLogs.flatMap((rl) =>
      rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.body.stringValue)),
    );
    expect(records).toEqual(Array.from({ length: 15 }, (_, i) => `log line ${i}`));
  });
});
