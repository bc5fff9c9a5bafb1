import { describe, expect, it } from 'vitest';
import { prettyLine } from '../../src/logger.js';

describe('the pretty log format', () => {
  it('puts time, level, component, message and URL first, then the other fields as key=value', () => {
    const at = new Date(2024, 4, 1, 9, 8, 7, 6).toISOString();
    const line = JSON.stringify({ level: 'info', time: at, name: 'tracetail', component: 'admin', listener: 'metrics.endpoint', url: 'http://localhost:9464/metrics', msg: 'listening', files: 2, include: ['a b'], note: 'two words' });
    expect(prettyLine(line)).toBe('09:08:07.006 INFO  admin: listening http://localhost:9464/metrics listener=metrics.endpoint files=2 include=["a b"] note="two words"\n');
  });

  it('shows an error with its stack under the line, and colours the level on a terminal', () => {
    const line = JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: 'reload failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at here' } });
    expect(prettyLine(line)).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} ERROR reload failed\n {4}Error: boom\n {8}at here\n$/);
    expect(prettyLine(line, true)).toContain('\x1b[31mERROR\x1b[0m');
  });

  it('passes a line that is not JSON through as it is', () => {
    expect(prettyLine('not json\n')).toBe('not json\n');
  });
});
