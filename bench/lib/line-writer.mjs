// Appends log lines to a file at a rate, in a child process of its own (see worker-process.mjs),
// as an application would: every `tickMs` it writes, in one write, the lines due by then, so a
// tick that ran late catches up by elapsed time. Each chunk of lines carries its write time in
// `time` (line-chunks.mjs). Commands:
//   { cmd: 'start', file, rate, shape: 'web' | 'pino', tickMs? }   lines/s; starts at line 0
//   { cmd: 'rate', rate }                                           changes the rate from now on
//   { cmd: 'reopen' }    closes the file and opens its path again (created anew after a rename),
//                        as an app does when logrotate's `create` has moved its file away
//   { cmd: 'progress' } / { cmd: 'stop' }  ->  { written, target, bytes, cpuSeconds }
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkChunks, fillLines, MAX_LINE_BYTES } from './line-chunks.mjs';

checkChunks();

let fd = -1;
let path = '';
let shape = 'web';
let rate = 0;
let tickMs = 20;
let credit = 0; // lines due, fractional
let written = 0;
let bytes = 0;
let last = 0;
let timer = null;
let buf = Buffer.alloc(MAX_LINE_BYTES * 1024);

function tick() {
  const now = performance.now();
  credit += (rate * (now - last)) / 1000;
  last = now;
  const due = Math.floor(credit);
  if (due > 0) {
    if (buf.length < due * MAX_LINE_BYTES) buf = Buffer.alloc(due * MAX_LINE_BYTES * 2);
    const n = fillLines(buf, shape, written, due, Date.now());
    writeSync(fd, buf, 0, n);
    written += due;
    bytes += n;
    credit -= due;
  }
  schedule(Math.max(0, tickMs - (performance.now() - now)));
}

function schedule(ms) {
  clearTimeout(timer);
  timer = fd >= 0 ? setTimeout(tick, ms) : null;
}

const progress = () => {
  const cpu = process.cpuUsage();
  const due = fd >= 0 ? credit + (rate * (performance.now() - last)) / 1000 : credit;
  return { written, target: written + Math.floor(due), bytes, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
};

process.send({ ready: true });
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.cmd === 'start') {
    path = m.file;
    fd = openSync(path, 'a');
    shape = m.shape;
    rate = m.rate;
    tickMs = m.tickMs ?? 20;
    last = performance.now();
    schedule(tickMs);
  } else if (m.cmd === 'rate') {
    if (fd >= 0) tick(); // what is due at the old rate
    rate = m.rate;
  } else if (m.cmd === 'reopen') {
    if (fd >= 0) {
      tick(); // what is due goes to the old file
      closeSync(fd);
      fd = openSync(path, 'a');
    }
  } else if (m.cmd === 'stop') {
    if (fd >= 0) closeSync(fd);
    fd = -1;
    schedule(0);
  } else if (m.cmd === 'exit') {
    process.exit(0);
  }
  process.send({ id: m.id, ...progress() });
});
