/** The dashboards generate.mjs writes, by file name, and their JSON text. */
export const DASHBOARDS: Record<string, unknown>;
export function render(dashboard: unknown): string;
