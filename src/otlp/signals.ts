/** The three OTLP signals, named as in their export paths (`/v1/traces`, `/v1/logs`, `/v1/metrics`). */
export type Signal = 'traces' | 'logs' | 'metrics';
export const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];
