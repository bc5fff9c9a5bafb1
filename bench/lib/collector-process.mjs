// Starts bench/lib/decoding-collector.mjs as a child process and talks to it.
import { fork } from 'node:child_process';

export async function startCollector() {
  const child = fork(new URL('./decoding-collector.mjs', import.meta.url), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.ready));
    child.once('exit', (code) => reject(new Error(`collector exited with ${code}`)));
  });
  let nextId = 0;
  const pending = new Map();
  child.on('message', (m) => {
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const rpc = (cmd, extra = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      child.send({ id, cmd, ...extra });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => rpc('stats'),
    down: () => rpc('down'),
    up: () => rpc('up'),
    mode: (mode) => rpc('mode', { mode }),
    close: async () => {
      child.send({ id: 0, cmd: 'exit' });
      await new Promise((r) => child.once('exit', r));
    },
  };
}
