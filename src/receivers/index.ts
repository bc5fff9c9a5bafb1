import type { GraphContext, Receiver } from './receiver.js';

/** Every receiver the config enables. */
export function buildReceivers(_ctx: GraphContext): Receiver[] {
  const receivers: Receiver[] = [];
  return receivers;
}
