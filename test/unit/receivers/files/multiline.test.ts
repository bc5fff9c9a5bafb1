import { describe, expect, it } from 'vitest';
import { MultilineAggregator, type MultilineConfig } from '../../../../src/receivers/files/multiline.js';
import type { RawLine, RawRecord } from '../../../../src/receivers/files/types.js';

function config(over: Partial<MultilineConfig>): MultilineConfig {
  return { preset: null, start_pattern: null, max_lines: 500, max_bytes: 1048576, timeout: 1000, ...over };
}

/** Lines as the tailer cuts them from a file holding `lines` (LF-terminated), with their end offsets. */
function rawLines(lines: string[], truncatedAt: number[] = []): RawLine[] {
  let end = 0;
  return lines.map((text, i) => {
    end += Buffer.byteLength(text) + 1;
    return { text, end, truncated: truncatedAt.includes(i) };
  });
}

/** Pushes every line, then flushes: all the records. */
function run(agg: MultilineAggregator, lines: RawLine[]): RawRecord[] {
  const out: RawRecord[] = [];
  for (const l of lines) out.push(...agg.push(l, 0));
  out.push(...agg.flush());
  return out;
}

function texts(records: RawRecord[]): string[] {
  return records.map((r) => r.text);
}

const JAVA = [
  '2024-05-01 12:00:00.123 ERROR 1 --- [nio-8080-exec-1] c.e.checkout.OrderController : Request failed',
  'java.lang.IllegalStateException: payment declined',
  '\tat com.example.checkout.PaymentService.charge(PaymentService.java:88)',
  '\tat com.example.checkout.OrderController.place(OrderController.java:42)',
  '\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)',
  '\tSuppressed: java.lang.RuntimeException: rollback failed',
  '\t\tat com.example.checkout.Tx.rollback(Tx.java:12)',
  'Caused by: java.io.IOException: connection reset',
  '\tat com.example.checkout.Gateway.send(Gateway.java:17)',
  '\t... 12 common frames omitted',
];

const PYTHON = [
  '2024-05-01 12:00:00,123 ERROR [app] request failed',
  'Traceback (most recent call last):',
  '  File "/app/main.py", line 42, in handle',
  '    result = compute(order)',
  '             ^^^^^^^^^^^^^^',
  '  File "/app/main.py", line 10, in compute',
  '    return 1 / 0',
  'ZeroDivisionError: division by zero',
  '',
  'The above exception was the direct cause of the following exception:',
  '',
  'Traceback (most recent call last):',
  '  File "/app/main.py", line 44, in handle',
  '    raise OrderError("cannot price order") from e',
  'app.errors.OrderError: cannot price order',
];

const GO = [
  'panic: runtime error: invalid memory address or nil pointer dereference',
  '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x48f1b2]',
  '',
  'goroutine 1 [running]:',
  'main.(*Server).handle(0x0, {0x6b8e40?, 0xc000012345})',
  '\t/app/server.go:12 +0x12',
  'net/http.HandlerFunc.ServeHTTP(0xc000010000?, {0x7f1c8, 0xc0000a6000}, 0xc0000b4000?)',
  '\t/usr/local/go/src/net/http/server.go:2136 +0x29',
  'created by net/http.(*Server).Serve in goroutine 1',
  '\t/usr/local/go/src/net/http/server.go:3285 +0x4b4',
  '',
  'goroutine 18 [chan receive]:',
  'main.worker()',
  '\t/app/worker.go:30 +0x45',
];

describe('java preset', () => {
  it('a logged exception with suppressed and caused-by parts is one record', () => {
    const lines = rawLines(['2024-05-01 12:00:00.000 INFO 1 --- [main] c.e.App : started', ...JAVA, '2024-05-01 12:00:01.000 INFO 1 --- [main] c.e.App : next']);
    const records = run(new MultilineAggregator(config({ preset: 'java' })), lines);
    expect(texts(records)).toEqual([lines[0].text, JAVA.join('\n'), lines[lines.length - 1].text]);
    expect(records.map((r) => r.end)).toEqual([lines[0].end, lines[JAVA.length].end, lines[lines.length - 1].end]);
  });

  it('an uncaught exception printed by the JVM starts its own record', () => {
    const trace = ['Exception in thread "main" java.lang.NullPointerException: x', '\tat com.example.Main.main(Main.java:5)'];
    const records = run(new MultilineAggregator(config({ preset: 'java' })), rawLines(['INFO before', ...trace]));
    expect(texts(records)).toEqual(['INFO before', trace.join('\n')]);
  });
});

describe('python preset', () => {
  it('a chained traceback joins the log line that reported it', () => {
    const lines = rawLines(['2024-05-01 12:00:00,000 INFO [app] started', ...PYTHON, '2024-05-01 12:00:01,000 INFO [app] next']);
    const records = run(new MultilineAggregator(config({ preset: 'python' })), lines);
    expect(texts(records)).toEqual([lines[0].text, PYTHON.join('\n'), lines[lines.length - 1].text]);
  });

  it('a traceback with no line before it is a record of its own; blank lines after it do not join the next record', () => {
    const tb = ['Traceback (most recent call last):', '  File "x.py", line 1, in <module>', 'KeyboardInterrupt'];
    const lines = rawLines([...tb, '', 'INFO next', 'INFO last']);
    const records = run(new MultilineAggregator(config({ preset: 'python' })), lines);
    expect(texts(records)).toEqual([tb.join('\n'), 'INFO next', 'INFO last']);
    // The blank line's bytes belong to the traceback's record: the checkpoint passes them.
    expect(records[0].end).toBe(lines[3].end);
  });

  it('a line after the exception line starts a new record', () => {
    const records = run(
      new MultilineAggregator(config({ preset: 'python' })),
      rawLines(['ERROR boom', 'Traceback (most recent call last):', '  File "a.py", line 1, in f', 'ValueError: bad', 'ValueError: not a continuation']),
    );
    expect(records).toHaveLength(2);
    expect(records[1].text).toBe('ValueError: not a continuation');
  });
});

describe('go preset', () => {
  it('a panic with several goroutines and blank lines is one record', () => {
    const lines = rawLines(['{"level":"info","msg":"serving"}', ...GO, 'exit status 2', '{"level":"info","msg":"restarted"}']);
    const records = run(new MultilineAggregator(config({ preset: 'go' })), lines);
    expect(texts(records)).toEqual([lines[0].text, GO.join('\n'), 'exit status 2', '{"level":"info","msg":"restarted"}']);
  });

  it('function-call looking lines outside a panic are records of their own', () => {
    const records = run(new MultilineAggregator(config({ preset: 'go' })), rawLines(['INFO a', 'main.main()', 'INFO b']));
    expect(texts(records)).toEqual(['INFO a', 'main.main()', 'INFO b']);
  });
});

describe('start_pattern', () => {
  it('lines not matching it continue the record; it wins over a preset', () => {
    const agg = new MultilineAggregator(config({ start_pattern: '^\\d{4}-\\d{2}-\\d{2} ', preset: 'go' }));
    const lines = rawLines(['2024-05-01 first', 'more', '', 'panic: not a start', '2024-05-01 second', '2024-05-01 third', '  tail']);
    expect(texts(run(agg, lines))).toEqual(['2024-05-01 first\nmore\n\npanic: not a start', '2024-05-01 second', '2024-05-01 third\n  tail']);
  });

  it('without preset or pattern, indented lines continue', () => {
    const records = run(new MultilineAggregator(config({})), rawLines(['a', '  b', 'c', '\td']));
    expect(texts(records)).toEqual(['a\n  b', 'c\n\td']);
  });

  it('a first line that does not match still starts a record', () => {
    const agg = new MultilineAggregator(config({ start_pattern: '^START' }));
    expect(texts(run(agg, rawLines(['orphan', 'START', 'x'])))).toEqual(['orphan', 'START\nx']);
  });
});

describe('limits', () => {
  it('max_lines: the line past it starts the next record', () => {
    const agg = new MultilineAggregator(config({ preset: 'java', max_lines: 3 }));
    const records = run(agg, rawLines(['ERROR x', '\tat a', '\tat b', '\tat c', '\tat d', '\tat e', '\tat f', '\tat g']));
    expect(texts(records)).toEqual(['ERROR x\n\tat a\n\tat b', '\tat c\n\tat d\n\tat e', '\tat f\n\tat g']);
  });

  it('max_bytes: the line that would pass it starts the next record (newlines counted)', () => {
    // Each line is 10 bytes with its LF.
    const agg = new MultilineAggregator(config({ preset: 'java', max_bytes: 25 }));
    const records = run(agg, rawLines(['ERROR 123', '\tat 45678', '\tat 90123', '\tat 45678']));
    expect(texts(records)).toEqual(['ERROR 123\n\tat 45678', '\tat 90123\n\tat 45678']);
  });

  it('max_bytes counts bytes, not characters', () => {
    const agg = new MultilineAggregator(config({ max_bytes: 12 }));
    // "é" is 2 bytes: "ééé" + LF is 7 bytes, "  éé" + LF is 7.
    expect(texts(run(agg, rawLines(['ééé', '  éé'])))).toEqual(['ééé', '  éé']);
    const wide = new MultilineAggregator(config({ max_bytes: 14 }));
    expect(texts(run(wide, rawLines(['ééé', '  éé'])))).toEqual(['ééé\n  éé']);
  });

  it('a single line larger than max_bytes is a record of its own', () => {
    const agg = new MultilineAggregator(config({ max_bytes: 4 }));
    expect(texts(run(agg, rawLines(['longer than four', '  and more'])))).toEqual(['longer than four', '  and more']);
  });
});

describe('holding, timeout and flush', () => {
  it('holds the last record until timeout has passed since its last line', () => {
    const agg = new MultilineAggregator(config({ preset: 'java', timeout: 1000 }));
    const [l1, l2, l3] = rawLines(['ERROR x', '\tat a', 'INFO y']);
    expect(agg.holding).toBe(false);
    expect(agg.push(l1, 10_000)).toEqual([]);
    expect(agg.holding).toBe(true);
    expect(agg.push(l2, 10_500)).toEqual([]);
    expect(agg.flushDue(11_000)).toEqual([]); // 500 ms after its last line
    expect(agg.flushDue(11_499)).toEqual([]);
    expect(agg.flushDue(11_500)).toEqual([{ text: 'ERROR x\n\tat a', end: l2.end, truncated: false }]);
    expect(agg.holding).toBe(false);
    expect(agg.flushDue(99_999)).toEqual([]);
    expect(agg.push(l3, 12_000)).toEqual([]);
    expect(agg.flush()).toEqual([{ text: 'INFO y', end: l3.end, truncated: false }]);
    expect(agg.flush()).toEqual([]);
  });

  it('a continuation after the timeout flushed its record starts a new one', () => {
    const agg = new MultilineAggregator(config({ preset: 'java', timeout: 100 }));
    const [l1, l2] = rawLines(['ERROR x', '\tat a']);
    agg.push(l1, 0);
    expect(texts([...agg.flushDue(100)])).toEqual(['ERROR x']);
    agg.push(l2, 150);
    expect(texts([...agg.flush()])).toEqual(['\tat a']);
  });

  it('uses the clock when no time is given', () => {
    const agg = new MultilineAggregator(config({ timeout: 60_000 }));
    agg.push(rawLines(['a'])[0]);
    expect(agg.flushDue(Date.now())).toEqual([]);
    expect(agg.flushDue(Date.now() + 60_000)).toHaveLength(1);
  });
});

describe('truncated lines and end offsets', () => {
  it('a record is truncated when any of its lines was', () => {
    const lines = rawLines(['ERROR x', '\tat a', '\tat b', 'INFO y', 'INFO z'], [1, 4]);
    const records = run(new MultilineAggregator(config({ preset: 'java' })), lines);
    expect(records.map((r) => [r.text, r.truncated, r.end])).toEqual([
      ['ERROR x\n\tat a\n\tat b', true, lines[2].end],
      ['INFO y', false, lines[3].end],
      ['INFO z', true, lines[4].end],
    ]);
  });

  it('end offsets follow the bytes of the file, CRLF and multi-byte included', () => {
    // As the tailer hands them: CR dropped from the text, counted in the offsets.
    const lines: RawLine[] = [
      { text: 'ERROR ünïcode', end: 17, truncated: false },
      { text: '\tat a', end: 24, truncated: false },
      { text: 'INFO next', end: 35, truncated: false },
    ];
    const records = run(new MultilineAggregator(config({ preset: 'java' })), lines);
    expect(records.map((r) => r.end)).toEqual([24, 35]);
  });

  it('a blank line with nothing before it is an empty record, so that its offset is passed', () => {
    const lines = rawLines(['', 'INFO a']);
    const records = run(new MultilineAggregator(config({ preset: 'java' })), lines);
    expect(records).toEqual([
      { text: '', end: 1, truncated: false },
      { text: 'INFO a', end: lines[1].end, truncated: false },
    ]);
  });
});
