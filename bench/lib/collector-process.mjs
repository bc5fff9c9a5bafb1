// Starts bench/lib/decoding-collector.mjs as a child process and talks to it.
import { startWorker } from './worker-process.mjs';

export async function startCollector() {
  const w = await startWorker(new URL('./decoding-collector.mjs', import.meta.url));
  return {
    url: `http://127.0.0.1:${w.ready}`,
    pid: w.child.pid,
    stats: () => w.rpc('stats'),
    down: () => w.rpc('down'),
    up: () => w.rpc('up'),
    mode: (mode) => w.rpc('mode', { mode }),
    reset: () => w.rpc('reset'),
    /** Losses and duplicates of items 0..expected-1 of a signal (see decoding-collector.mjs). */
    check: (signal, expected) => w.rpc('check', { signal, expected }),
    /** Arrival latency (ms) of items from..to-1 of a signal. */
    latency: (signal, from, to) => w.rpc('latency', { signal, from, to }),
    close: () => w.close(),
  };
}
