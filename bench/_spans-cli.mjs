// drive the running CLI with N protobuf requests of 512 spans; print CLI CPU per span
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Long from 'long';
import { encodeRequest, requestType } from '../dist/otlp/codec.js';
const pid = Number(process.argv[2]); const N = Number(process.argv[3] ?? 400);
const SPANS = 512;
const rnd = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));
const str = (key, v) => ({ key, value: { stringValue: v } });
const int = (key, v) => ({ key, value: { intValue: Long.fromNumber(v) } });
function batch() {
  const spans = [];
  for (let i = 0; i < SPANS; i++) {
    const start = Long.fromNumber(Date.now() * 1e6, true).add(i * 1_000_000);
    spans.push({ traceId: rnd(16), spanId: rnd(8), parentSpanId: rnd(8), name: i % 3 === 0 ? 'GET /api/users/:id' : 'POST /api/orders', kind: 2, startTimeUnixNano: start, endTimeUnixNano: start.add(12_345_678),
      attributes: [str('http.request.method', 'GET'), str('url.full', `https://shop.example.com/api/users/${i}`), int('http.response.status_code', i % 17 === 0 ? 500 : 200), str('http.route', '/api/users/:id'), str('server.address', 'shop.example.com'), int('server.port', 443)],
      status: { code: i % 17 === 0 ? 2 : 0 } });
  }
  return Buffer.from(encodeRequest('traces', requestType.traces.fromObject({ resourceSpans: [{ resource: { attributes: [str('service.name', 'shop')] }, scopeSpans: [{ scope: { name: 'http' }, spans }] }] })));
}
const bodies = Array.from({ length: 8 }, batch);
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) * 10; };
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
const post = (body) => new Promise((res, rej) => { const r = http.request({ host: '127.0.0.1', port: 14318, path: '/v1/traces', method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf' } }, (resp) => { resp.resume(); resp.on('end', () => res(resp.statusCode)); }); r.on('error', rej); r.end(body); });
for (let i = 0; i < 20; i++) await post(bodies[i % 8]);
const c0 = cpu(); const t0 = performance.now(); let codes = {};
for (let i = 0; i < N; i += 2) { const cs = await Promise.all([post(bodies[i % 8]), post(bodies[(i + 1) % 8])]); for (const c of cs) codes[c] = (codes[c] ?? 0) + 1; }
const ms = cpu() - c0; const s = (performance.now() - t0) / 1000;
console.log(`spans ${N * SPANS}  ${Math.round(N * SPANS / s)} spans/s  cli cpu ${ms} ms => ${(ms * 1000 / (N * SPANS)).toFixed(2)} µs/span  codes ${JSON.stringify(codes)}`);
agent.destroy();
