/**
 * A source's read positions (a file's offset and identity), kept durably by the queue writer: they
 * travel with the batch whose records reach them (`LogBatch.checkpoints`) and are committed in the
 * same transaction, so a position never moves past what is on disk.
 */
export interface Checkpoint {
  key: string;
  /** Owned by the source that wrote it; stored as JSON. */
  data: unknown;
}

/** What a source reads at start and writes outside batches (a file forgotten, a position with no records). */
export interface Checkpoints {
  all<T = unknown>(): { key: string; data: T }[];
  save(checkpoints: readonly Checkpoint[]): void;
  delete(key: string): void;
}
