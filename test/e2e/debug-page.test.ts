/**
 * The debug page in a real headless Chromium: it lists the traces, opens one, and shows its spans
 * as a waterfall with each log line under the span it belongs to. Screenshots go to
 * test-artifacts/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { startDebugFixture, type DebugFixture } from '../helpers/debug-fixture.js';
import { requireTool } from '../helpers/tools.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const haveChromium = requireTool('chromium');

describe.skipIf(!haveChromium)('debug page in Chromium', () => {
  let browser: Browser;
  const fixtures: DebugFixture[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim(),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(fixtures.map((f) => f.stop()));
  });

  /** A page that fails the test on any script error or CSP violation. */
  async function openPage(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    return { page, problems };
  }

  it('lists the traces, opens one and shows its spans with their log lines under them', async () => {
    const f = await startDebugFixture();
    fixtures.push(f);
    const { page, problems } = await openPage();
    await page.goto(`${f.base}/`);

    const row = page.locator(`tr[data-trace-id="${f.checkout.traceId}"]`);
    await row.waitFor();
    await expect(page.locator(`tr[data-trace-id="${f.other.traceId}"]`).count()).resolves.toBe(1);
    await expect(row.textContent()).resolves.toContain('POST /orders');
    // The service map: the root server span's caller is the user.
    const edge = page.locator('#edges tbody tr');
    await edge.first().waitFor();
    await expect(edge.allTextContents()).resolves.toEqual([expect.stringMatching(/^usercheckoutvirtual_node10/)]);
    await page.screenshot({ path: join(ARTIFACTS, 'debug-page-list.png'), fullPage: true });

    await row.locator('a').click();
    await page.waitForURL(`**/#/trace/${f.checkout.traceId}`);
    const serverRow = page.locator(`.span-row[data-span-id="${f.checkout.serverSpanId}"]`);
    const clientRow = page.locator(`.span-row[data-span-id="${f.checkout.clientSpanId}"]`);
    await serverRow.waitFor();
    await clientRow.waitFor();
    await expect(serverRow.textContent()).resolves.toContain('POST /orders');
    await expect(clientRow.getAttribute('class')).resolves.toContain('error');

    // The waterfall in DOM order: each span row, then the log lines of that span.
    const rows = await page.locator('#waterfall > .row').evaluateAll((nodes) =>
      nodes.map((n) => (n.classList.contains('span-row') ? `span:${n.getAttribute('data-span-id')}` : `log:${n.querySelector('.body')?.textContent}`)),
    );
    const [received, asking, failed, rejected] = f.checkout.logBodies;
    expect(rows).toEqual([`span:${f.checkout.serverSpanId}`, `log:${received}`, `log:${rejected}`, `span:${f.checkout.clientSpanId}`, `log:${asking}`, `log:${failed}`]);
    // Log bodies are text, not markup.
    await expect(page.locator('#waterfall b').count()).resolves.toBe(0);
    await expect(page.locator('.log.error .body').textContent()).resolves.toBe(failed);

    // A span row opens its details.
    await clientRow.click();
    await expect(page.locator('.details').textContent()).resolves.toContain('inventory unavailable');
    await page.screenshot({ path: join(ARTIFACTS, 'debug-page-trace.png'), fullPage: true });

    // Back to the list with the filter for errors.
    await page.click('text=all traces');
    await page.selectOption('select[name=status]', 'error');
    await page.click('button[type=submit] >> text=Search');
    await page.locator(`tr[data-trace-id="${f.other.traceId}"]`).waitFor({ state: 'detached' });
    await expect(page.locator('#traces tbody tr').count()).resolves.toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('asks for the token when the API wants one, then shows the traces', async () => {
    const f = await startDebugFixture({ token: 'page-token' });
    fixtures.push(f);
    const { page, problems } = await openPage();
    await page.goto(`${f.base}/`);
    await page.locator('#token-form').waitFor();
    await page.fill('#token', 'page-token');
    await page.click('#token-form button');
    await page.locator(`tr[data-trace-id="${f.checkout.traceId}"]`).waitFor();
    // The only console error allowed is the browser's report of the first 401.
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    await page.close();
  });
});
