// The log lines of the benchmarks: JSON (~300 B with trace ids, as a pino app with the OTel
// instrumentation writes them) and plain text, each ending in a newline; `i` makes every line unique.
const hex = (n, w) => n.toString(16).padStart(w, '0').slice(-w);

/** A pino line of about 265 B, with `extra` fields at its end. */
export const pinoLine = (i, extra = {}) =>
  `${JSON.stringify({ level: 30, time: 1714564800000 + i, pid: 4242, hostname: 'app-7f9c', msg: `request handled seq=${i}`, trace_id: `5eed${hex(i + 1, 12)}${hex(i * 7919, 16)}`, span_id: `${hex(i + 1, 8)}abcd0001`, trace_flags: '01', route: '/api/orders', status: 200, duration_ms: 12.5, user: 'u-1234', ...extra })}\n`;

const PAD = { pad: 'x'.repeat(40) };

export const logLines = {
  json: (i) => pinoLine(i, PAD),
  text: (i) => `2024-05-01T12:00:00.000Z INFO [http-nio-8080-exec-3] c.e.orders.OrderController - request handled seq=${i} path=/api/orders status=200\n`,
};
