/**
 * What was found for the key at each position of a record, remembered: a logger writes its keys
 * in the same order line after line, and JSON.parse gives them as the same (internalized) strings,
 * so one compare at the key's position usually replaces a lookup (a dictionary lookup per key was
 * several percent of a JSON line's instructions).
 */
export class KeysByPosition<T> {
  private readonly keys: (string | undefined)[] = [];
  private readonly found: T[] = [];

  /** `lookup` gives what to remember for a key; positions from `positions` on are not remembered. */
  constructor(
    private readonly positions: number,
    private readonly lookup: (key: string) => T,
  ) {}

  /** What `lookup` gives for `key`, the `i`-th key of its record. */
  get(i: number, key: string): T {
    if (this.keys[i] === key) return this.found[i];
    const v = this.lookup(key);
    if (i < this.positions) {
      this.keys[i] = key;
      this.found[i] = v;
    }
    return v;
  }
}
