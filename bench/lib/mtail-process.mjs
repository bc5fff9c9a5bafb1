// Debian's mtail as a peer for the whole-CLI benchmark: started in its normal tailing mode on one
// log file with a program that counts lines by level and by trace-id presence, its HTTP port found
// in its log, its counters read from its /metrics. mtail starts reading a file that exists at
// start-up at its end, so the file is written after it is tailing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MTAIL = process.env.BENCH_MTAIL ?? '/usr/bin/mtail';

/** The mtail program: lines by pino level and by the presence of a 32-hex-digit trace_id. */
export const PROGRAM = `counter log_lines_total by level, trace_context

/"level":(?P<level>\\d+)/ {
  /"trace_id":"[0-9a-f]{32}"/ {
    log_lines_total[$level]["present"]++
  } else {
    log_lines_total[$level]["absent"]++
  }
}
`;

/** mtail's version line, or null when it is not installed. */
export function mtailVersion() {
  if (!existsSync(MTAIL)) return null;
  const r = spawnSync(MTAIL, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).split('\n')[0].trim() : null;
}

/** Starts mtail on `logFile` (which must exist) with PROGRAM, in `dir`; resolves once it listens and tails the file. */
export async function startMtail(dir, logFile, timeoutMs = 20_000) {
  const progs = join(dir, 'mtail-progs');
  mkdirSync(progs, { recursive: true });
  writeFileSync(join(progs, 'levels.mtail'), PROGRAM);
  const child = spawn(MTAIL, ['--logs', logFile, '--progs', progs, '--address', '127.0.0.1', '--port', '0', '--logtostderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  process.on('exit', () => child.kill('SIGKILL'));
  let log = '';
  const url = await new Promise((resolve, reject) => {
    let port = null;
    let tailing = false;
    const timer = setTimeout(() => reject(new Error(`mtail did not start tailing within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    child.stderr.on('data', (d) => {
      log += d.toString();
      port ??= /Listening on .*:(\d+)/.exec(log)?.[1] ?? null;
      tailing ||= log.includes(`Tailing ${logFile}`);
      if (port && tailing) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}/metrics`);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`mtail exited with ${code ?? signal}:\n${log}`));
    });
  });
  return {
    child,
    url,
    /** Lines the program has counted (the sum of log_lines_total). */
    async counted() {
      const text = await (await fetch(url)).text();
      let n = 0;
      for (const line of text.split('\n')) if (line.startsWith('log_lines_total{')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
      return n;
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
