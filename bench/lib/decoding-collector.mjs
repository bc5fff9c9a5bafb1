// A collector for benchmarks, run as a child process so it does not share the sidecar's event
// loop: it decodes every OTLP/HTTP request with the project's codec (so a broken payload shows),
// counts items per signal, and does nothing else. Controlled over IPC:
//   { id, cmd: 'stats' | 'down' | 'up' | 'mode', mode?: 'ok' | '503' }  ->  { id, counts, requests, wireBytes }
import http from 'node:http';
import { gunzipSync } from 'node:zlib';

const { decodeRequest, countItems } = await import(new URL('../../dist/otlp/codec.js', import.meta.url));

const counts = { traces: 0, logs: 0, metrics: 0 };
let requests = 0;
let wireBytes = 0;
let mode = 'ok';
const sockets = new Set();

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  requests++;
  const wire = Buffer.concat(chunks);
  wireBytes += wire.length;
  if (mode === '503') {
    res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
    return;
  }
  const signal = (req.url ?? '').replace(/^\/v1\//, '');
  const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
  const format = /json/.test(req.headers['content-type'] ?? '') ? 'json' : 'protobuf';
  try {
    counts[signal] += countItems(signal, decodeRequest(signal, body, format));
    res.writeHead(200, { 'content-type': req.headers['content-type'] }).end();
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err.message));
  }
});
server.keepAliveTimeout = 60_000;
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

let port = 0;
function listen() {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
}

port = await listen();
process.send({ ready: port });
process.on('message', async (m) => {
  if (m.cmd === 'down') {
    await new Promise((resolve) => {
      server.close(resolve);
      for (const s of sockets) s.destroy();
    });
  } else if (m.cmd === 'up') {
    if (!server.listening) await listen();
  } else if (m.cmd === 'mode') {
    mode = m.mode;
  } else if (m.cmd === 'exit') {
    process.exit(0);
  }
  process.send({ id: m.id, counts, requests, wireBytes });
});
