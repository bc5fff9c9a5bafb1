// A benchmark helper in a child process of its own (forked, IPC): it sends { ready } once started,
// then answers each { id, cmd, ... } with { id, ... }. Children forked here are killed when this
// process exits, however it exits.
import { fork } from 'node:child_process';

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export async function startWorker(url, args = []) {
  const child = fork(url, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  exited.then(() => children.delete(child));
  const ready = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.ready));
    exited.then(({ code, signal }) => reject(new Error(`${url} exited with ${code ?? signal} before it was ready`)));
  });
  let nextId = 0;
  const pending = new Map();
  child.on('message', (m) => {
    pending.get(m.id)?.resolve(m);
    pending.delete(m.id);
  });
  exited.then(({ code, signal }) => {
    for (const p of pending.values()) p.reject(new Error(`${url} exited with ${code ?? signal}`));
    pending.clear();
  });
  const rpc = (cmd, extra = {}) =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`${url} is not running`));
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, ...extra });
    });
  return {
    child,
    ready,
    rpc,
    exited,
    /** Asks it to exit, and kills it if it has not within `ms`. */
    async close(ms = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ id: 0, cmd: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(timer);
    },
  };
}
