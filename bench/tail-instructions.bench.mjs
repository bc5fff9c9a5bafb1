// Machine instructions per log line through the per-line work of tailing (lib/tail-stage.mjs:
// split, parse, trace context, record), counted by valgrind (callgrind) with V8 single-threaded
// and seeded: the same code gives the same count however loaded the machine is, where times on a
// shared machine move by a third. Counted over rounds 2 to 4 (a run of rounds 1-4 minus a run of
// round 1: start-up and the first, unoptimized round left out). Needs valgrind (Debian: valgrind).
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LINES = Number(process.env.BENCH_LINES ?? 50_000);
const stage = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'tail-stage.mjs');

if (spawnSync('valgrind', ['--version']).error) {
  console.log('skipped: valgrind is not installed (apt-get install -y --no-install-recommends valgrind)');
  process.exit(0);
}

/** Instructions of one process running `rounds` rounds of `kind`. */
function instructions(kind, rounds) {
  const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath];
  args.push('--single-threaded', '--hash-seed=1', '--random-seed=1', '--expose-gc', stage, kind, String(LINES), String(rounds));
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`valgrind exited with ${code}: ${err.slice(-500)}`));
    });
  });
}

for (const kind of ['json', 'text']) {
  const [one, four] = await Promise.all([instructions(kind, 1), instructions(kind, 4)]);
  console.log(`${kind.padEnd(5)} ${Math.round((four - one) / (3 * LINES)).toLocaleString('en')} instructions per line (${LINES} lines, rounds 2-4)`);
}
