/**
 * `npm run fuzz`: the property tests of test/property run long, with a new seed each time (or the
 * FC_SEED given), FC_RUNS runs of each property (20000 unless given) and no test timeout. The seed
 * is printed first; a failing property prints its seed, path and counterexample, which replay it:
 *   FC_SEED=<seed> FC_PATH=<path> npx vitest run test/property -t '<its test name>'
 * Extra arguments go to vitest (a file, -t NAME).
 */
import { spawnSync } from 'node:child_process';

const seed = process.env.FC_SEED || String(Date.now() % 2 ** 31);
const runs = process.env.FC_RUNS || '20000';
console.log(`fuzz: FC_SEED=${seed} FC_RUNS=${runs}`);
const started = Date.now();
const result = spawnSync('npx', ['vitest', 'run', 'test/property', '--testTimeout=0', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, FC_SEED: seed, FC_RUNS: runs },
});
const took = `${Math.round((Date.now() - started) / 1000)} s`;
if (result.status === 0) console.log(`fuzz: passed with FC_SEED=${seed} FC_RUNS=${runs} in ${took}`);
else console.log(`fuzz: FAILED with FC_SEED=${seed} FC_RUNS=${runs} in ${took}; replay a failure with FC_SEED=${seed} FC_PATH=<its path> npx vitest run test/property -t '<its test name>'`);
process.exit(result.status ?? 1);
