/**
 * What the stages of the file receiver hand each other: the tailer cuts raw lines, multiline
 * groups them into records (RawRecord, in pipeline/batches.ts: what the receiver hands on).
 */
export type { RawRecord } from '../../pipeline/batches.js';

/** One line as the tailer cut it from a file. */
export interface RawLine {
  /** The line without its LF (and without a CR before it), invalid UTF-8 already replaced. */
  text: string;
  /** Byte offset in the file just past this line's newline: where reading resumes after it. */
  end: number;
  /** The line was longer than `logs.max_line_bytes` and was cut there (the rest is the next line). */
  truncated: boolean;
}
