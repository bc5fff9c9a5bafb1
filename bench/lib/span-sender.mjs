// Sends spans over OTLP/HTTP protobuf at a rate, in a child process of its own (see
// worker-process.mjs), as an app's OTel SDK would: requests of whole traces (web-trace.mjs),
// stamped with their send time, due by elapsed time every `tickMs`, at most `inFlight` at once on
// keep-alive connections. A request answered with anything but 200 is sent again, before anything
// newer, after the answer's Retry-After (at most 5 s; 1 s without one), so every span is
// eventually accepted. Commands:
//   { cmd: 'start', endpoint, rate, spansPerRequest?, inFlight?, tickMs? }   spans/s; starts at span 0
//   { cmd: 'start', endpoint, total, ... }   `total` spans at once, as fast as they are accepted
//   { cmd: 'progress' }  ->  { issued, accepted (spans), refusedRequests, failedRequests, firstRefusedAt (ms), pendingRequests, inFlight, cpuSeconds }
//   { cmd: 'stop' }      ->  the same, once nothing is pending or in flight (new requests stop at once)
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { traceRequestTemplate } from './web-trace.mjs';

let template;
let endpoint;
let rate = 0;
let tickMs = 20;
let maxInFlight = 4;
let agent;
let credit = 0;
let last = 0;
let timer = null;
let stopping = false;
let onIdle = null;
const stats = { issued: 0, accepted: 0, refusedRequests: 0, failedRequests: 0, firstRefusedAt: null };
const pending = []; // request numbers due, oldest first
let nextRequest = 0;
let inFlight = 0;
let holdUntil = 0;

function post(body) {
  return new Promise((resolve) => {
    const req = http.request(`http://${endpoint}/v1/traces`, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] }));
    });
    req.on('error', () => resolve({ status: 0 }));
    req.end(body);
  });
}

function pump() {
  while (inFlight < maxInFlight && pending.length > 0 && performance.now() >= holdUntil) {
    const r = pending.shift();
    inFlight++;
    const first = r * template.spansPerRequest;
    post(template.stamp(first, Date.now())).then(({ status, retryAfter }) => {
      inFlight--;
      if (status === 200) stats.accepted += template.spansPerRequest;
      else {
        if (status === 0) stats.failedRequests++;
        else {
          stats.refusedRequests++;
          stats.firstRefusedAt ??= Date.now();
        }
        pending.unshift(r);
        const seconds = Number(retryAfter);
        holdUntil = performance.now() + Math.min(5000, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000);
        setTimeout(pump, holdUntil - performance.now() + 1);
      }
      pump();
      if (onIdle && inFlight === 0 && pending.length === 0) onIdle();
    });
  }
}

function tick() {
  const now = performance.now();
  credit += (rate * (now - last)) / 1000 / template.spansPerRequest;
  last = now;
  while (credit >= 1) {
    credit--;
    pending.push(nextRequest++);
    stats.issued += template.spansPerRequest;
  }
  pump();
  if (!stopping) timer = setTimeout(tick, Math.max(0, tickMs - (performance.now() - now)));
}

const progress = () => {
  const cpu = process.cpuUsage();
  return { ...stats, pendingRequests: pending.length, inFlight, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
};

process.send({ ready: true });
process.on('disconnect', () => process.exit(0));
process.on('message', async (m) => {
  if (m.cmd === 'start') {
    endpoint = m.endpoint;
    template = traceRequestTemplate(m.spansPerRequest ?? 100);
    rate = m.rate;
    tickMs = m.tickMs ?? 20;
    maxInFlight = m.inFlight ?? 4;
    agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
    if (m.total) {
      rate = 0;
      for (let i = 0; i < Math.ceil(m.total / template.spansPerRequest); i++) pending.push(nextRequest++);
      stats.issued = nextRequest * template.spansPerRequest;
      pump();
    } else {
      last = performance.now();
      timer = setTimeout(tick, tickMs);
    }
  } else if (m.cmd === 'stop') {
    stopping = true;
    clearTimeout(timer);
    if (inFlight > 0 || pending.length > 0) await new Promise((r) => (onIdle = r));
    agent?.destroy();
  } else if (m.cmd === 'exit') {
    process.exit(0);
  }
  process.send({ id: m.id, ...progress() });
});
