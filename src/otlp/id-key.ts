/** Map keys of trace and span ids: their bytes as UTF-16 code units, two bytes each (no hex per item). */
export function idKey(id: Uint8Array): string {
  const n = id.length;
  if (n === 16) {
    return String.fromCharCode(
      (id[0] << 8) | id[1], (id[2] << 8) | id[3], (id[4] << 8) | id[5], (id[6] << 8) | id[7],
      (id[8] << 8) | id[9], (id[10] << 8) | id[11], (id[12] << 8) | id[13], (id[14] << 8) | id[15],
    );
  }
  if (n === 8) return String.fromCharCode((id[0] << 8) | id[1], (id[2] << 8) | id[3], (id[4] << 8) | id[5], (id[6] << 8) | id[7]);
  let k = '';
  for (let i = 0; i + 1 < n; i += 2) k += String.fromCharCode((id[i] << 8) | id[i + 1]);
  return n % 2 ? k + String.fromCharCode(id[n - 1]) : k;
}

/** True when the id is empty or all zeros (invalid in W3C trace context and OTLP). */
export function isZeroId(id: Uint8Array | null | undefined): boolean {
  if (!id) return true;
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}
