/** tracetail's own log: JSON lines on stderr. Never fed back into its own pipeline. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.TRACETAIL_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { name: 'tracetail' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['*.headers.*', '*.token', 'headers.*', 'token'], censor: '<redacted>' },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}

/**
 * Logs at most once per `intervalMs` per key, with the number of occurrences folded in (Vector's
 * rule: count every discard, warn once per interval, never once per record).
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, obj: object, msg: string): void {
    this.emit('warn', key, obj, msg);
  }

  error(key: string, obj: object, msg: string): void {
    this.emit('error', key, obj, msg);
  }

  private emit(level: 'warn' | 'error', key: string, obj: object, msg: string): void {
    const now = Date.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    this.log[level]({ ...obj, suppressed: entry?.suppressed ?? 0 }, msg);
    this.last.set(key, { at: now, suppressed: 0 });
  }
}
