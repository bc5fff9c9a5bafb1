import { buildOtlpReceivers } from './otlp/index.js';
import type { GraphContext, Receiver } from './receiver.js';

/** Every receiver the config enables. */
export function buildReceivers(ctx: GraphContext): Receiver[] {
  const receivers: Receiver[] = [];
  receivers.push(...buildOtlpReceivers(ctx));
  return receivers;
}
