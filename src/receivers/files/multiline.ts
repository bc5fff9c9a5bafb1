/** Interim multiline aggregator: start_pattern only (presets land with the parse branch). */
import type { Config } from '../../config/load.js';
import type { RawLine, RawRecord } from './types.js';

export class MultilineAggregator {
  private current: RawRecord | null = null;
  private since = 0;
  private readonly start: RegExp;
  constructor(private readonly cfg: NonNullable<Config['logs']['multiline']>) {
    this.start = new RegExp(cfg.start_pattern ?? '^\\S');
  }
  get holding(): boolean {
    return this.current !== null;
  }
  push(line: RawLine): RawRecord[] {
    const out: RawRecord[] = [];
    if (this.current && !this.start.test(line.text)) {
      this.current = { text: `${this.current.text}\n${line.text}`, end: line.end, truncated: this.current.truncated || line.truncated };
      return out;
    }
    if (this.current) out.push(this.current);
    this.current = { ...line };
    this.since = Date.now();
    return out;
  }
  flush(): RawRecord[] {
    const r = this.current;
    this.current = null;
    return r ? [r] : [];
  }
  flushDue(now: number): RawRecord[] {
    return this.current && now - this.since >= this.cfg.timeout ? this.flush() : [];
  }
}
