/**
 * Groups lines into multiline records (`logs.multiline`): a stack trace, a traceback or a panic
 * travels as one record whose text is its lines joined with "\n".
 *
 * Which lines continue the record being built:
 * - `start_pattern`: a line matching it starts a record, any other line continues the current one
 *   (it wins over `preset` when both are set);
 * - `preset: java`: indented lines (`\tat ...`, `\t... 12 more`), `Caused by:`, `Suppressed:`,
 *   `... N common frames omitted`, and the exception line after the message that logged it
 *   (`java.lang.IllegalStateException: boom`: a dotted class name ending in Exception, Error or
 *   Throwable);
 * - `preset: python`: `Traceback (most recent call last):` and its indented frames join the record
 *   before them (the log line that reported the error), then the final `XxxError: message` line;
 *   chained tracebacks (`The above exception was the direct cause ...`, `During handling of ...`)
 *   with the blank lines between them stay in the same record;
 * - `preset: go`: a `panic: ...` or `fatal error: ...` line starts a record that keeps
 *   `goroutine N [running]:` headers, function and indented file lines, `created by ...`,
 *   `[signal ...]` and blank lines until a line that is none of these;
 * - no preset and no pattern: indented lines continue the record before them.
 * Blank lines are held: they join the record when a continuation follows (and the preset keeps
 * blank lines at that point), otherwise the record ends before them (its text does not end in
 * blank lines, its `end` is past them). A blank line with no record before it is an empty record.
 *
 * A record holds at most `max_lines` lines and `max_bytes` bytes (counted from the lines' file
 * offsets, newlines included): the line that would pass either starts the next record. The last
 * record is held until a line starts another, `flush()` is called, or `flushDue()` finds it older
 * than `timeout` (measured from its last line).
 *
 * When `logs.multiline` is null the receiver needs none of this: a RawLine already is a RawRecord.
 */
import type { Config } from '../../config/load.js';
import type { RawLine, RawRecord } from './types.js';

export type MultilineConfig = NonNullable<Config['logs']['multiline']>;

/** Decides, line by line, whether a line continues the record being built. */
interface ContinuationRule {
  /** `line` starts a record (a new one, or the first): the rule's state restarts from it. */
  starts(line: string): void;
  /** `line` (not blank) continues the current record; called in order for every later line. */
  continues(line: string): boolean;
  /** Blank lines held after the record may join it when a continuation follows. */
  holdsBlank(): boolean;
}

function isIndented(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 32 || c === 9;
}

class IndentRule implements ContinuationRule {
  starts(): void {}
  continues(line: string): boolean {
    return isIndented(line);
  }
  holdsBlank(): boolean {
    return true;
  }
}

class StartPatternRule implements ContinuationRule {
  constructor(private readonly start: RegExp) {}
  starts(): void {}
  continues(line: string): boolean {
    return !this.start.test(line);
  }
  holdsBlank(): boolean {
    return true;
  }
}

const JAVA_CONTINUATION = /^(?:\s*(?:Caused by|Suppressed|Wrapped by):|\s*\.\.\. \d+ (?:more|common frames omitted)|[\w$]+(?:\.[\w$]+)+(?:Exception|Error|Throwable)(?::|$))/;

class JavaRule implements ContinuationRule {
  starts(): void {}
  continues(line: string): boolean {
    return isIndented(line) || JAVA_CONTINUATION.test(line);
  }
  holdsBlank(): boolean {
    return true;
  }
}

const PY_TRACEBACK = 'Traceback (most recent call last):';
const PY_CHAINED = /^(?:The above exception was the direct cause of the following exception:|During handling of the above exception, another exception occurred:)$/;
/** The last line of a traceback: `ZeroDivisionError: division by zero`, `KeyboardInterrupt`, `pkg.mod.Error: x`. */
const PY_EXCEPTION = /^[A-Za-z_][\w.]*(?::|$)/;

class PythonRule implements ContinuationRule {
  /** 0: no traceback in the record, 1: in a traceback, 2: after its exception line. */
  private state = 0;
  starts(line: string): void {
    this.state = line.startsWith(PY_TRACEBACK) ? 1 : 0;
  }
  continues(line: string): boolean {
    if (line.startsWith(PY_TRACEBACK)) {
      this.state = 1;
      return true;
    }
    if (isIndented(line)) return true;
    if (this.state === 1 && PY_EXCEPTION.test(line)) {
      this.state = 2;
      return true;
    }
    if (this.state === 2 && PY_CHAINED.test(line)) {
      this.state = 1;
      return true;
    }
    this.state = 0;
    return false;
  }
  holdsBlank(): boolean {
    return this.state !== 0;
  }
}

const GO_PANIC_START = /^(?:panic: |fatal error: )/;
const GO_PANIC_LINE = /^(?:goroutine \d+|created by |\[signal |\.\.\.additional frames elided\.\.\.|[^\s(]+\(.*\)$)/;

class GoRule implements ContinuationRule {
  private inPanic = false;
  starts(line: string): void {
    this.inPanic = GO_PANIC_START.test(line);
  }
  continues(line: string): boolean {
    if (isIndented(line)) return true;
    if (this.inPanic && GO_PANIC_LINE.test(line)) return true;
    return false;
  }
  holdsBlank(): boolean {
    return this.inPanic;
  }
}

function ruleFor(config: MultilineConfig): ContinuationRule {
  if (config.start_pattern) return new StartPatternRule(new RegExp(config.start_pattern));
  switch (config.preset) {
    case 'java':
      return new JavaRule();
    case 'python':
      return new PythonRule();
    case 'go':
      return new GoRule();
    default:
      return new IndentRule();
  }
}

export class MultilineAggregator {
  private readonly rule: ContinuationRule;
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;

  // The record being built (lines > 0 when there is one).
  private text = '';
  private end = 0;
  private truncated = false;
  private lines = 0;
  private bytes = 0;
  /** When its last line arrived. */
  private lastAt = 0;
  /** Blank lines held after it: how many, the end of the last, their bytes, any of them cut. */
  private blanks = 0;
  private blanksEnd = 0;
  private blanksBytes = 0;
  private blanksTruncated = false;
  /** End of the previous line pushed: the next line's bytes are `its end - this`. */
  private prevEnd = -1;

  constructor(config: MultilineConfig) {
    this.rule = ruleFor(config);
    this.maxLines = config.max_lines;
    this.maxBytes = config.max_bytes;
    this.timeoutMs = config.timeout;
  }

  /** A record is being held. */
  get holding(): boolean {
    return this.lines > 0;
  }

  /**
   * Adds a line; returns the records it completed (the held one when this line starts another).
   * `nowMs` (Date.now() when omitted) is when
   * the line arrived, for `flushDue`; a tailer pushing a batch can pass one time for all of it.
   */
  push(line: RawLine, nowMs: number = Date.now()): readonly RawRecord[] {
    const text = line.text;
    const size = this.prevEnd >= 0 && line.end > this.prevEnd ? line.end - this.prevEnd : Buffer.byteLength(text) + 1;
    this.prevEnd = line.end;
    if (isBlank(text)) {
      // Nothing to attach it to: an (empty) record of its own, so that its offset is passed.
      if (this.lines === 0) return [{ text, end: line.end, truncated: line.truncated }];
      this.blanks++;
      this.blanksEnd = line.end;
      this.blanksBytes += size;
      this.blanksTruncated ||= line.truncated;
      this.lastAt = nowMs;
      return NONE;
    }
    if (this.lines === 0) {
      this.begin(line, size, nowMs);
      return NONE;
    }
    const blanksJoin = this.blanks === 0 || this.rule.holdsBlank();
    if (
      this.rule.continues(text) &&
      blanksJoin &&
      this.lines + this.blanks < this.maxLines &&
      this.bytes + this.blanksBytes + size <= this.maxBytes
    ) {
      if (this.blanks > 0) {
        this.text += '\n'.repeat(this.blanks);
        this.lines += this.blanks;
        this.bytes += this.blanksBytes;
        this.truncated ||= this.blanksTruncated;
        this.dropBlanks();
      }
      this.text += '\n' + text;
      this.lines++;
      this.bytes += size;
      this.end = line.end;
      this.truncated ||= line.truncated;
      this.lastAt = nowMs;
      return NONE;
    }
    const done = this.take();
    this.begin(line, size, nowMs);
    return [done];
  }

  /** Everything held, as records (none when nothing is held). */
  flush(): readonly RawRecord[] {
    return this.lines > 0 ? [this.take()] : NONE;
  }

  /** The held record when its last line is `timeout` or more old at `nowMs`. */
  flushDue(nowMs: number): readonly RawRecord[] {
    return this.lines > 0 && nowMs - this.lastAt >= this.timeoutMs ? [this.take()] : NONE;
  }

  private begin(line: RawLine, size: number, nowMs: number): void {
    this.rule.starts(line.text);
    this.text = line.text;
    this.end = line.end;
    this.truncated = line.truncated;
    this.lines = 1;
    this.bytes = size;
    this.lastAt = nowMs;
  }

  private take(): RawRecord {
    const record: RawRecord = {
      text: this.text,
      end: this.blanks > 0 ? this.blanksEnd : this.end,
      truncated: this.truncated || this.blanksTruncated,
    };
    this.text = '';
    this.lines = 0;
    this.bytes = 0;
    this.truncated = false;
    this.dropBlanks();
    return record;
  }

  private dropBlanks(): void {
    this.blanks = 0;
    this.blanksBytes = 0;
    this.blanksTruncated = false;
  }
}

/** Shared and frozen: the arrays these methods return are read, never changed. */
const NONE: readonly RawRecord[] = Object.freeze([]);

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
