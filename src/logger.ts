/**
 * tracetail's own log on stderr: JSON lines, or one human line per entry (`pretty`). Never fed
 * back into its own pipeline.
 */
import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function createLogger(level: string = process.env.TRACETAIL_LOG_LEVEL ?? 'info', format: LogFormat = 'json'): Logger {
  return pino(
    {
      level,
      base: { name: 'tracetail' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['*.headers.*', '*.token', 'headers.*', 'token'], censor: '<redacted>' },
    },
    format === 'pretty' ? prettyDestination(2, Boolean(process.stderr.isTTY) && !process.env.NO_COLOR) : pino.destination({ dest: 2, sync: true }),
  );
}

const LEVEL_COLORS: Record<string, string> = { trace: '90', debug: '90', info: '32', warn: '33', error: '31', fatal: '35' };
/** Fields the line shows in its own place, or not at all. */
const SHOWN_APART = new Set(['level', 'time', 'name', 'msg', 'component', 'url', 'err']);

/** Each JSON entry pino writes, as `12:00:00.000 INFO  component: message url key=value ...`, synchronously. */
export function prettyDestination(fd: number, color: boolean): DestinationStream {
  return { write: (line: string) => void writeSync(fd, prettyLine(line, color)) };
}

export function prettyLine(line: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const paint = (code: string | undefined, text: string) => (color && code ? `\x1b[${code}m${text}\x1b[0m` : text);
  const level = String(entry.level ?? '');
  const at = new Date(typeof entry.time === 'string' ? entry.time : Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
  let out = `${paint('90', time)} ${paint(LEVEL_COLORS[level], level.toUpperCase().padEnd(5))} ${entry.component ? `${String(entry.component)}: ` : ''}${String(entry.msg ?? '')}`;
  if (typeof entry.url === 'string') out += ` ${paint('36', entry.url)}`;
  for (const [key, value] of Object.entries(entry)) {
    if (SHOWN_APART.has(key) || value === undefined) continue;
    const text = typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
    out += ` ${paint('90', `${key}=`)}${text}`;
  }
  const err = entry.err as { message?: string; stack?: string } | undefined;
  if (err) out += `\n    ${(err.stack ?? err.message ?? JSON.stringify(err)).split('\n').join('\n    ')}`;
  return `${out}\n`;
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
