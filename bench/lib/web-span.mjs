// One span as a web service's HTTP server instrumentation makes it, with random ids (real ones do
// not compress), for the benchmarks that feed spans.
import { randomBytes } from 'node:crypto';
import { keyValue } from '../../dist/otlp/values.js';

/** The `i`-th GET /api/orders/{id} server span, starting at `start` (a Long of ns) and lasting 12.3 ms. */
export function webSpan(i, start) {
  return {
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    parentSpanId: randomBytes(8),
    name: 'GET /api/orders/{id}',
    kind: 2,
    startTimeUnixNano: start,
    endTimeUnixNano: start.add(12_345_678),
    attributes: [
      keyValue('http.request.method', 'GET'),
      keyValue('http.route', '/api/orders/{id}'),
      keyValue('http.response.status_code', 200),
      keyValue('url.path', `/api/orders/${i}`),
      keyValue('server.address', 'checkout.internal'),
      keyValue('client.address', '10.1.2.3'),
      keyValue('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64)'),
    ],
    status: { code: 0 },
  };
}
