import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

function problems(text: string): string {
  try {
    loadConfig({ text, env: {} });
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('logs.trace_context and correlation keys', () => {
  it('have defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c.logs.trace_context).toEqual({ trace_id_fields: [], span_id_fields: [], trace_flags_fields: [], patterns: [], scan_text: true });
    expect(c.correlation).toEqual({ enabled: true, window: 300_000, max_bytes: 8 * 1024 * 1024, inherit_resource: true });
  });

  it('accept field paths, patterns with a trace_id group, and units', () => {
    const c = loadConfig({
      text: "logs:\n  trace_context:\n    trace_id_fields: [ctx.tid]\n    patterns: ['req#(?<trace_id>[0-9a-f]+)/(?<span_id>[0-9a-f]+)']\n    scan_text: false\ncorrelation:\n  window: 90s\n  max_bytes: 8MiB\n",
      env: {},
    });
    expect(c.logs.trace_context.trace_id_fields).toEqual(['ctx.tid']);
    expect(c.logs.trace_context.scan_text).toBe(false);
    expect(c.correlation).toMatchObject({ window: 90_000, max_bytes: 8 * 1024 * 1024 });
  });

  it('name the key and the reason for bad values', () => {
    expect(problems("logs:\n  trace_context:\n    patterns: ['(?<tid>\\w+)']\n")).toBe(
      'logs.trace_context.patterns.0: needs a named group (?<trace_id>...); span_id and trace_flags groups are optional',
    );
    expect(problems("logs:\n  trace_context:\n    patterns: ['(']\n")).toContain('logs.trace_context.patterns.0: invalid regular expression');
    expect(problems('logs:\n  trace_context:\n    span_id_fields: [""]\n')).toBe('logs.trace_context.span_id_fields.0: must not be empty');
    expect(problems('logs:\n  trace_context:\n    trace_id_field: [x]\n')).toContain('logs.trace_context.trace_id_field: unknown key; did you mean "trace_id_fields"?');
    expect(problems('correlation:\n  window: 500ms\n')).toBe('correlation.window: must be at least 1s');
    expect(problems('correlation:\n  max_bytes: 1KiB\n')).toBe('correlation.max_bytes: must be at least 64KiB');
    expect(problems('correlation:\n  inherit_resource: maybe\n')).toBe('correlation.inherit_resource: expected boolean, got string "maybe"');
  });
});
