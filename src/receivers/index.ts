import { FileReceiver } from './files/file-receiver.js';
import { buildOtlpReceivers } from './otlp/index.js';
import type { GraphContext, Receiver } from './receiver.js';

/** Every receiver the config enables: the log files (when `logs.include` names any) and OTLP. */
export function buildReceivers(ctx: GraphContext): Receiver[] {
  const receivers: Receiver[] = [];
  if (ctx.config.logs.include.length > 0) receivers.push(new FileReceiver(ctx));
  receivers.push(...buildOtlpReceivers(ctx));
  return receivers;
}
