import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer } from '../../../src/admin/admin-server.js';
import { Telemetry } from '../../../src/metrics/telemetry.js';
import { negotiateFormat } from '../../../src/metrics/exposition.js';

let server: AdminServer | undefined;
afterEach(async () => server?.stop());

describe('admin server', () => {
  it('/readyz is 503 with the reasons until ready', async () => {
    let reasons = ['receivers.otlp.http not bound'];
    server = new AdminServer({
      endpoint: { host: '127.0.0.1', port: 0 },
      maxConnections: 10,
      telemetry: new Telemetry({ processMetrics: false }),
      log: pino({ level: 'silent' }),
      readiness: () => ({ ready: reasons.length === 0, reasons }),
    });
    await server.start();
    const url = `http://127.0.0.1:${server.address!.port}/readyz`;
    const notReady = await fetch(url);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('not ready: receivers.otlp.http not bound\n');
    reasons = [];
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'text'],
    ['text/plain;version=0.0.4', 'text'],
    ['*/*', 'text'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    ['text/plain;version=0.0.4,application/openmetrics-text;version=1.0.0;q=0.5', 'text'],
    ['application/openmetrics-text;q=0', 'text'],
  ])('%j → %s', (accept, format) => expect(negotiateFormat(accept)).toBe(format));
});
