/** The roles a field or a `key=value` pair can play in a record's trace context. */
/** Indexes into the per-record slots. */
export const Role = {
  Trace: 0,
  Span: 1,
  Flags: 2,
  Sampled: 3,
  Transaction: 4,
  Traceparent: 5,
  DdTrace: 6,
  DdSpan: 7,
  B3Trace: 8,
  B3Span: 9,
  B3Sampled: 10,
  B3Single: 11,
  XRay: 12,
  GcpTrace: 13,
  GcpSpan: 14,
  GcpSampled: 15,
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLE_COUNT = 16;
