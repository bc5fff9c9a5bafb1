/**
 * The embedded store: one SQLite database (WAL) holding file checkpoints and the durable export
 * queue's entries, so that one transaction can enqueue a batch and move the checkpoints of the
 * lines in it. The entries' payloads are in segment files beside it (segments.ts), each written
 * before the transaction that names it. A crash anywhere loses nothing: what is committed is in
 * the queue, what is not was never acknowledged upstream (and the file offset did not move).
 *
 * The payloads of the newest entries also stay in memory (up to RECENT_BYTES), so the sender,
 * when it keeps up, takes them from there instead of reading them back.
 */
import Database from 'better-sqlite3';
import { dirname, join } from 'node:path';
import type { Checkpoint } from '../pipeline/checkpoints.js';
import { SIGNALS, type Signal } from '../otlp/signals.js';
import { EnvironmentError, QueueFullError, RETRY_AFTER_MS, StorageError } from '../errors.js';
import { checkWritableDirectories, isFull } from './preflight.js';
import { Reserve, RESERVE_BYTES } from './reserve.js';
import { Segments } from './segments.js';

/**
 * SQLite's page cache, in KiB (`PRAGMA cache_size`). better-sqlite3 builds SQLite with 16 MiB, which
 * the queue fills within seconds of an outage with pages it will not read again soon: batches are
 * appended at one end and read once, in order, at the other. 2 MiB keeps the B-tree's inner pages
 * and the pages being written; the rest is read through the OS page cache.
 */
const PAGE_CACHE_KIB = 2048;
/** Payloads of entries not yet read by the sender kept in memory, all signals together. */
export const RECENT_BYTES = 4 << 20;
/** A segment file is closed for writing past this size (or an eighth of the queue bound, if less). */
const SEGMENT_BYTES = 16 << 20;
const MIN_SEGMENT_BYTES = 1 << 20;
/** While the storage is full, how often a write is tried again (each try first checks for room). */
const FULL_RETRY_MS = 250;

export interface QueueEntry {
  id: number;
  signal: Signal;
  createdAt: number;
  items: number;
  /** Bytes of its payload (what it takes in the queue). */
  bytes: number;
  /** Bytes of the request it holds: `bytes`, or more when the payload is gzip-compressed. */
  requestBytes: number;
  /**
   * An encoded OTLP protobuf Export<Signal>ServiceRequest, or one gzip-compressed (written so while
   * the queue was backing up: it then holds several times more); empty when damaged.
   */
  payload: Buffer;
  /** Its payload could not be read back (its segment file was lost or cut short). */
  damaged?: boolean;
}

export interface NewQueueEntry {
  signal: Signal;
  payload: Uint8Array;
  items: number;
  /** Bytes of the request when `payload` is it compressed. */
  requestBytes?: number;
}


export interface QueueStats {
  entries: number;
  items: number;
  bytes: number;
  /** ms since epoch of the oldest entry, or null when empty. */
  oldestCreatedAt: number | null;
}

export interface StoreOptions {
  maxQueueBytes: number;
  /** Retry-After hint given with QueueFullError. */
  retryAfterMs?: number;
  /** Told when writes start failing (the storage is full or failing) and when they work again. */
  onFault?: (fault: StorageFault | undefined) => void;
}

/** Why the store takes nothing at the moment. */
export interface StorageFault {
  reason: 'storage_full' | 'storage_error';
  /** The errno or SQLite code. */
  code: string;
  message: string;
  since: number;
}

interface QueueStatements {
  insert: Database.Statement<[number, number, number, number, number | null, number, number]>;
  peek: Database.Statement<[number, number]>;
  ack: Database.Statement<[number]>;
  oldest: Database.Statement<[]>;
  oldestAfter: Database.Statement<[number]>;
}

export class Store {
  private readonly db: Database.Database;
  private readonly stmt: {
    upsertCheckpoint: Database.Statement<[string, string, number]>;
    deleteCheckpoint: Database.Statement<[string]>;
    getCheckpoint: Database.Statement<[string]>;
    allCheckpoints: Database.Statement<[]>;
  };
  /** Each signal's queue is a table of its own (no index to keep beside it), ids given here. */
  private readonly queue = {} as Record<Signal, QueueStatements>;
  private readonly nextId = {} as Record<Signal, number>;
  private readonly stats = new Map<Signal, QueueStats>();
  private totalBytes = 0;
  private closed = false;
  private readonly segments = {} as Record<Signal, Segments>;
  /** Payloads of the newest entries, by signal and id (see RECENT_BYTES). */
  private readonly recent = new Map<string, Uint8Array>();
  private recentBytes = 0;
  private readonly reserve: Reserve;
  private currentFault?: StorageFault;
  private lastFullTry = 0;

  private constructor(
    readonly path: string,
    private readonly options: StoreOptions,
  ) {
    let db: Database.Database | undefined;
    try {
      this.db = db = new Database(path, { timeout: 250 });
      // One tracetail per storage directory: a second one would replay the same queue. Set before
      // WAL mode, so that the WAL index is kept in memory, not in a `-shm` file (which a full disk
      // would not let a restart create).
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      // Take the write lock now (kept: exclusive locking mode) before touching the segment files.
      this.db.exec('BEGIN IMMEDIATE; COMMIT;');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS checkpoints (
          key TEXT PRIMARY KEY,
          data TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        );
      `);
      // An entry's payload is in its segment; `payload` holds those of a queue written before segments.
      for (const signal of SIGNALS) {
        this.db.exec(`
          CREATE TABLE IF NOT EXISTS queue_${signal} (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            items INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            request_bytes INTEGER,
            segment INTEGER,
            seg_offset INTEGER,
            payload BLOB
          );
        `);
      }
      this.migrateSharedQueue();
    } catch (err) {
      if (db?.open) db.close();
      const busy = (err as { code?: string }).code === 'SQLITE_BUSY';
      throw new EnvironmentError(
        busy
          ? `storage.directory: ${path} is in use by another tracetail process`
          : isFull(err)
            ? `storage.directory: ${dirname(path)} is full; tracetail needs at least ${RESERVE_BYTES >> 20} MiB free to start`
            : `storage.directory: cannot open ${path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.stmt = {
      upsertCheckpoint: this.db.prepare(
        'INSERT INTO checkpoints (key, data, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at',
      ),
      deleteCheckpoint: this.db.prepare('DELETE FROM checkpoints WHERE key = ?'),
      getCheckpoint: this.db.prepare('SELECT data FROM checkpoints WHERE key = ?'),
      allCheckpoints: this.db.prepare('SELECT key, data FROM checkpoints'),
    };
    const segmentBytes = Math.max(MIN_SEGMENT_BYTES, Math.min(SEGMENT_BYTES, Math.floor(options.maxQueueBytes / 8)));
    for (const signal of SIGNALS) {
      const table = `queue_${signal}`;
      this.queue[signal] = {
        insert: this.db.prepare(`INSERT INTO ${table} (id, created_at, items, bytes, request_bytes, segment, seg_offset) VALUES (?, ?, ?, ?, ?, ?, ?)`),
        peek: this.db.prepare(
          `SELECT id, created_at AS createdAt, items, bytes, COALESCE(request_bytes, bytes) AS requestBytes, payload, segment, seg_offset AS segOffset FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`,
        ),
        ack: this.db.prepare(`DELETE FROM ${table} WHERE id = ? RETURNING segment`),
        oldest: this.db.prepare(`SELECT created_at AS oldest FROM ${table} ORDER BY id LIMIT 1`),
        oldestAfter: this.db.prepare(`SELECT created_at AS oldest FROM ${table} WHERE id > ? ORDER BY id LIMIT 1`),
      };
      const r = this.db.prepare(`SELECT COUNT(*) AS entries, SUM(items) AS items, SUM(bytes) AS bytes, MIN(created_at) AS oldest, MAX(id) AS last FROM ${table}`).get() as {
        entries: number;
        items: number | null;
        bytes: number | null;
        oldest: number | null;
        last: number | null;
      };
      this.nextId[signal] = (r.last ?? 0) + 1;
      if (r.entries > 0) {
        this.stats.set(signal, { entries: r.entries, items: r.items!, bytes: r.bytes!, oldestCreatedAt: r.oldest });
        this.totalBytes += r.bytes!;
      }
      const live = this.db.prepare(`SELECT segment, COUNT(*) AS entries FROM ${table} WHERE segment IS NOT NULL GROUP BY segment`).all() as { segment: number; entries: number }[];
      this.segments[signal] = new Segments(join(dirname(path), 'queue'), signal, segmentBytes, new Map(live.map((l) => [l.segment, l.entries])));
    }
    this.reserve = new Reserve(join(dirname(path), 'tracetail.reserve'));
    try {
      this.reserve.hold();
    } catch (err) {
      if (!isFull(err)) throw new EnvironmentError(`storage.directory: cannot write ${this.reserve.path}: ${(err as Error).message}`, { cause: err });
      // A queue that filled the disk is sent first; with none, nothing would ever free room.
      if (this.totalBytes === 0) {
        this.close();
        throw new EnvironmentError(
          `storage.directory: ${dirname(path)} is full (${this.reserve.available()} bytes free); tracetail needs at least ${RESERVE_BYTES >> 20} MiB free to start`,
          { cause: err },
        );
      }
      this.fault(err);
    }
  }

  /** A queue of an earlier version, all signals in one table: its entries move to their signal's table, in order. */
  private migrateSharedQueue(): void {
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'queue'").get();
    if (!exists) return;
    const columns = (this.db.pragma('table_info(queue)') as { name: string }[]).map((c) => c.name);
    const col = (name: string) => (columns.includes(name) ? name : 'NULL');
    this.db.transaction(() => {
      for (const signal of SIGNALS) {
        this.db
          .prepare(
            `INSERT INTO queue_${signal} (id, created_at, items, bytes, request_bytes, segment, seg_offset, payload)
             SELECT id, created_at, items, bytes, ${col('request_bytes')}, ${col('segment')}, ${col('seg_offset')}, CASE WHEN length(payload) > 0 THEN payload END
             FROM queue WHERE signal = ? ORDER BY id`,
          )
          .run(signal);
      }
      this.db.exec('DROP TABLE queue');
    })();
  }

  static open(directory: string, options: StoreOptions): Store {
    checkWritableDirectories([{ key: 'storage.directory', path: directory }]);
    return new Store(join(directory, 'tracetail.db'), options);
  }

  /** Bytes in the queue, all signals together (what `storage.max_queue_bytes` bounds). */
  get queuedBytes(): number {
    return this.totalBytes;
  }

  queueStats(signal: Signal): QueueStats {
    return this.stats.get(signal) ?? { entries: 0, items: 0, bytes: 0, oldestCreatedAt: null };
  }

  /** Whether `bytes` more would fit under the bound (an empty queue takes anything). */
  hasRoom(bytes: number): boolean {
    return this.totalBytes === 0 || this.totalBytes + bytes <= this.options.maxQueueBytes;
  }

  /**
   * Enqueue entries and move checkpoints in one transaction. Throws QueueFullError (and keeps
   * nothing) when the entries do not fit under `max_queue_bytes`.
   */
  enqueue(entries: readonly NewQueueEntry[], checkpoints: readonly Checkpoint[] = []): void {
    this.assertOpen();
    let bytes = 0;
    for (const e of entries) bytes += e.payload.byteLength;
    if (bytes > 0 && !this.hasRoom(bytes)) {
      throw new QueueFullError(
        `export queue is full (${this.totalBytes} of ${this.options.maxQueueBytes} bytes)`,
        this.options.retryAfterMs ?? RETRY_AFTER_MS.queueFull,
      );
    }
    if (this.currentFault?.reason === 'storage_full') this.awaitRoom();
    const now = Date.now();
    const places: { signal: Signal; segment: number; offset: number }[] = [];
    const ids: number[] = [];
    try {
      for (const e of entries) places.push({ signal: e.signal, ...this.segments[e.signal].append(e.payload) });
      this.db.transaction(() => {
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i];
          const { segment, offset } = places[i];
          const id = this.nextId[e.signal]++; // a failed transaction leaves a gap, which nothing minds
          this.queue[e.signal].insert.run(id, now, e.items, e.payload.byteLength, e.requestBytes ?? null, segment, offset);
          ids.push(id);
        }
        for (const c of checkpoints) this.stmt.upsertCheckpoint.run(c.key, JSON.stringify(c.data), now);
      })();
    } catch (err) {
      for (const p of places) this.segments[p.signal].abandon(p.segment);
      throw this.fault(err) ?? err;
    }
    if (this.currentFault) this.setFault(undefined);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const s = this.statsFor(entry.signal);
      s.entries++;
      s.items += entry.items;
      s.bytes += entry.payload.byteLength;
      s.oldestCreatedAt ??= now;
      this.totalBytes += entry.payload.byteLength;
      if (this.recentBytes + entry.payload.byteLength <= RECENT_BYTES) {
        this.recent.set(recentKey(entry.signal, ids[i]), entry.payload);
        this.recentBytes += entry.payload.byteLength;
      }
    }
  }

  /**
   * Entries of `signal` after id `afterId`, oldest first, until `maxItems` items or requests of
   * `maxBytes` are reached (at least one). Rows are read one at a time, so a batch never loads more
   * payloads than it uses.
   */
  peek(signal: Signal, afterId: number, maxItems: number, maxBytes: number, maxEntries = 1000): QueueEntry[] {
    this.assertOpen();
    const out: QueueEntry[] = [];
    let items = 0;
    let bytes = 0;
    for (const r of this.queue[signal].peek.iterate(afterId, maxEntries) as IterableIterator<Omit<QueueEntry, 'signal'> & { segment: number | null; segOffset: number | null }>) {
      if (out.length > 0 && (items + r.items > maxItems || bytes + r.requestBytes > maxBytes)) break;
      const { segment, segOffset, ...rest } = r;
      const entry: QueueEntry = { signal, ...rest };
      if (segment !== null) {
        const kept = this.takeRecent(signal, r.id);
        const payload = kept ? Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength) : this.segments[signal].read(segment, segOffset!, r.bytes);
        if (payload) entry.payload = payload;
        else entry.damaged = true;
      }
      out.push(entry);
      items += r.items;
      bytes += r.requestBytes;
    }
    return out;
  }

  /** ms since epoch of the oldest entry of `signal` after id `afterId`, or null when there is none. */
  oldestAfter(signal: Signal, afterId: number): number | null {
    this.assertOpen();
    const row = this.queue[signal].oldestAfter.get(afterId) as { oldest: number } | undefined;
    return row?.oldest ?? null;
  }

  /** Delete entries the backend acknowledged (or that were permanently rejected and counted). */
  ack(signal: Signal, entries: readonly Pick<QueueEntry, 'id' | 'items' | 'bytes'>[]): void {
    this.assertOpen();
    if (entries.length === 0) return;
    const segments: number[] = [];
    const remove = this.db.transaction(() => {
      segments.length = 0;
      for (const e of entries) {
        const row = this.queue[signal].ack.get(e.id) as { segment: number | null } | undefined;
        if (row && row.segment !== null) segments.push(row.segment);
      }
    });
    try {
      remove();
    } catch (err) {
      // The reserve's room is for this: deleting what was sent is what empties a full disk.
      if (!isFull(err) || !this.reserve.isHeld) throw err;
      this.fault(err);
      remove();
    }
    for (const segment of segments) this.segments[signal].release(segment);
    const s = this.statsFor(signal);
    for (const e of entries) {
      this.takeRecent(signal, e.id);
      s.entries--;
      s.items -= e.items;
      s.bytes -= e.bytes;
      this.totalBytes -= e.bytes;
    }
    if (s.entries <= 0) {
      this.stats.set(signal, { entries: 0, items: 0, bytes: 0, oldestCreatedAt: null });
    } else {
      const row = this.queue[signal].oldest.get() as { oldest: number } | undefined;
      s.oldestCreatedAt = row?.oldest ?? null;
    }
  }

  /** Why writes are refused now (full or failing storage), or undefined while they work. */
  get storageFault(): StorageFault | undefined {
    return this.currentFault;
  }

  getCheckpoint<T = unknown>(key: string): T | undefined {
    this.assertOpen();
    const row = this.stmt.getCheckpoint.get(key) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as T) : undefined;
  }

  allCheckpoints<T = unknown>(): { key: string; data: T }[] {
    this.assertOpen();
    return (this.stmt.allCheckpoints.all() as { key: string; data: string }[]).map((r) => ({ key: r.key, data: JSON.parse(r.data) as T }));
  }

  /** Move checkpoints without enqueuing anything (e.g. a file read to its end with no records). */
  saveCheckpoints(checkpoints: readonly Checkpoint[]): void {
    this.enqueue([], checkpoints);
  }

  deleteCheckpoint(key: string): void {
    this.assertOpen();
    this.stmt.deleteCheckpoint.run(key);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    for (const segments of Object.values(this.segments)) segments.close();
    this.recent.clear();
  }

  /**
   * A failed write as the backpressure error it is (undefined when it is not the storage's: a bug),
   * remembered until a write works again. A full filesystem gives up the reserve, so that deletes
   * can still free room.
   */
  private fault(err: unknown): StorageError | undefined {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !(/^E[A-Z]+$/.test(code) || code.startsWith('SQLITE_'))) return undefined;
    const full = isFull(err);
    if (full) this.reserve.release();
    const message = full
      ? `the storage directory is full (${code}); nothing more is queued until the export frees room`
      : `the storage directory cannot be written (${code}: ${(err as Error).message}); nothing more is queued until it can`;
    const reason = full ? 'storage_full' : 'storage_error';
    if (this.currentFault?.reason !== reason) this.setFault({ reason, code, message, since: Date.now() });
    return new StorageError(full ? 'TT_STORAGE_FULL' : 'TT_STORAGE_ERROR', message, RETRY_AFTER_MS.storage, { cause: err });
  }

  /**
   * While full, a write is tried only when the filesystem has room for the reserve and as much
   * again, the reserve written first (and at most every FULL_RETRY_MS): else it is refused at once.
   */
  private awaitRoom(): void {
    const fault = this.currentFault!;
    const refuse = () => new StorageError('TT_STORAGE_FULL', fault.message, RETRY_AFTER_MS.storage);
    const now = Date.now();
    if (now - this.lastFullTry < FULL_RETRY_MS) throw refuse();
    this.lastFullTry = now;
    if (this.reserve.available() < 2 * this.reserve.bytes) throw refuse();
    try {
      this.reserve.hold();
    } catch (err) {
      throw this.fault(err) ?? err;
    }
  }

  private setFault(fault: StorageFault | undefined): void {
    this.currentFault = fault;
    this.options.onFault?.(fault);
  }

  private takeRecent(signal: Signal, id: number): Uint8Array | undefined {
    const key = recentKey(signal, id);
    const payload = this.recent.get(key);
    if (payload) {
      this.recent.delete(key);
      this.recentBytes -= payload.byteLength;
    }
    return payload;
  }

  private statsFor(signal: Signal): QueueStats {
    let s = this.stats.get(signal);
    if (!s) {
      s = { entries: 0, items: 0, bytes: 0, oldestCreatedAt: null };
      this.stats.set(signal, s);
    }
    return s;
  }

  private assertOpen(): void {
    if (this.closed) throw new EnvironmentError('the store is closed');
  }
}

function recentKey(signal: Signal, id: number): string {
  return `${signal}:${id}`;
}
