/** Map keys of trace and span ids: their bytes as UTF-16 code units, two bytes each (no hex per item). */
export function idKey(id: Uint8Array): string {
  let k = '';
  for (let i = 0; i + 1 < id.length; i += 2) k += String.fromCharCode((id[i] << 8) | id[i + 1]);
  return k;
}

/** True when the id is empty or all zeros (invalid in W3C trace context and OTLP). */
export function isZeroId(id: Uint8Array | null | undefined): boolean {
  if (!id) return true;
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}
