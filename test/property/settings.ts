/**
 * The shared settings of the property tests: every property runs with the same seed and number of
 * runs, taken from the environment so that a failure can be replayed and a longer run made
 * (`npm run fuzz`):
 * - `FC_SEED`: the seed (a fixed one by default, so that CI runs the same cases every time);
 * - `FC_RUNS`: runs of each property (small by default; some properties scale it, see `check`);
 * - `FC_PATH`: with `FC_SEED`, replays the one failing case a report named (select its test with
 *   `vitest -t`: paths are per property).
 * A failing property reports its seed, its path and its shrunk counterexample.
 */
import fc from 'fast-check';

const DEFAULT_SEED = 1_717_171_717;
const DEFAULT_RUNS = 200;

function envInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

export const SEED = envInteger('FC_SEED', DEFAULT_SEED);
export const RUNS = envInteger('FC_RUNS', DEFAULT_RUNS);
const PATH = process.env.FC_PATH || undefined;

export interface CheckOptions {
  /** Share of FC_RUNS for this property (its cases are costly, or its space is small). */
  scale?: number;
}

/** Runs `property` with the shared seed and number of runs; throws with the seed, path and counterexample on failure. */
export function check<Ts>(property: fc.IAsyncProperty<Ts>, options?: CheckOptions): Promise<void>;
export function check<Ts>(property: fc.IProperty<Ts>, options?: CheckOptions): void;
export function check<Ts>(property: fc.IRawProperty<Ts>, options: CheckOptions = {}): Promise<void> | void {
  return fc.assert(property, {
    seed: SEED,
    numRuns: Math.max(1, Math.round(RUNS * (options.scale ?? 1))),
    path: PATH,
    endOnFailure: PATH !== undefined,
  });
}
