/**
 * kill -9 through the built CLI: while an application writes and its file is rotated, the sidecar
 * is killed with SIGKILL at random moments and started again, several times. Every line must arrive
 * at least once; duplicates are measured, printed, and bounded by what can be in flight at a kill
 * (the checkpoint moves in the transaction that queues the records, so what can be repeated is the
 * export request sent and not yet acknowledged: one batch of export.batch.max_items per kill, the
 * application writing one file).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../../helpers/cli.js';
import { TestCollector } from '../../helpers/collector.js';
import { appDirs, CollectorFeed, LogWriter, logrotateConfig, rotateCopyTruncate, rotateRenameCreate, runLogrotate, tailConfig } from '../../helpers/files.js';
import { hasTool } from '../../helpers/tools.js';

const MAX_ITEMS = 1000;
const KILLS = 5;

let collector: TestCollector | undefined;
const procs: CliProcess[] = [];
let writer: LogWriter | undefined;

afterEach(async () => {
  writer?.kill();
  writer = undefined;
  for (const p of procs.splice(0)) await p.stop();
  await collector?.close();
  collector = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill -9 during writing and rotation (built CLI)', () => {
  it('every line arrives at least once; duplicates stay within one export batch per kill', async () => {
    const { dir, control, path } = appDirs('tracetail-crash-');
    collector = await TestCollector.start();
    const feed = new CollectorFeed(collector);
    const config = tailConfig(dir, collector.url, { export: { batch: { max_items: MAX_ITEMS } } });
    const start = async () => {
      const p = await startCli({ dir, config });
      procs.push(p);
      return p;
    };

    let proc = await start();
    writer = await LogWriter.start({ file: path, rate: 8000, control, name: 'app' });
    const w = writer;
    const useLogrotate = hasTool('logrotate');
    // While it is down (seconds per kill, with the restart) the sidecar falls behind by far more
    // than `rotate 5` keeps: logrotate would delete files before anyone could read them. `rotate 50`
    // deletes nothing in this test, so every line written stays readable (and logrotate's .1 to .51
    // never reach the test's own app.log.100, .101, ...).
    const conf = useLogrotate ? logrotateConfig(dir, path, w, 'create', 50) : undefined;

    // Rotations run on their own clock, so kills land before, during and right after them. They
    // pause while the sidecar is down: files created and rotated away while it is down, and a
    // copytruncate it has not handled before a kill, are the two tests below.
    let up = true;
    let rotating = true;
    let n = 100;
    const rotations: Record<string, number> = {};
    const timeline: string[] = [];
    const rotator = (async () => {
      while (rotating) {
        await sleep(150 + Math.random() * 350);
        if (!rotating) break;
        if (!up) continue;
        const kinds = ['rename', ...(conf ? ['logrotate'] : [])];
        const kind = kinds[Math.floor(Math.random() * kinds.length)];
        if (kind === 'rename') await rotateRenameCreate(path, w, n++);
        else if (kind === 'copytruncate') await rotateCopyTruncate(path, w, n++);
        else runLogrotate(conf!, join(dir, 'logrotate.state'));
        rotations[kind] = (rotations[kind] ?? 0) + 1;
        timeline.push(`${kind} at ${w.written}`);
      }
    })();

    for (let k = 0; k < KILLS; k++) {
      await sleep(400 + Math.random() * 1200);
      up = false;
      proc.kill('SIGKILL');
      await proc.exited;
      timeline.push(`kill at ~${w.written}`);
      await sleep(Math.random() * 600);
      proc = await start();
      await proc.waitForLog((l) => l.msg === 'tailing', 15_000, 'the file receiver to start');
      up = true;
      timeline.push(`restart at ~${w.written}`);
    }
    await sleep(500);
    rotating = false;
    await rotator;
    const total = await w.stop();
    writer = undefined;

    try {
      await feed.waitForAll('app', total, 60_000);
    } catch (err) {
      const outcomes: Record<string, number> = {};
      for (const r of collector.requests) outcomes[`${r.signal}:${r.outcome}`] = (outcomes[`${r.signal}:${r.outcome}`] ?? 0) + 1;
      console.log(`requests by outcome ${JSON.stringify(outcomes)}, items ${collector.items('logs')}, ledger ${feed.ledger.records} records, others ${feed.ledger.others.length}, timeline (writer positions as of its last acknowledgement) ${timeline.join(', ')}; logs of the sidecars:\n${procs.map((p) => p.stderr).join('\n---\n')}`);
      throw err;
    }
    expect(await proc.stop()).toBe(0);
    const result = feed.poll().tally('app', total);
    // In flight at a kill (README, Delivery promise): the export request being sent (one batch,
    // export.concurrency 1). The records of a read reach the queue in one transaction with their
    // file's offset, however many export requests they make, so none is queued without it.
    const bound = KILLS * MAX_ITEMS;
    console.log(
      `crash: ${total} lines, ${KILLS} kills, rotations ${JSON.stringify(rotations)}: missing ${result.missing}, duplicates ${result.duplicates} (bound ${bound} = ${KILLS} kills x 1 batch of ${MAX_ITEMS})`,
    );
    expect(result.missing).toBe(0);
    expect(result.beyond).toBe(0);
    expect(result.duplicates).toBeLessThanOrEqual(bound);
    for (const p of procs.slice(0, -1)) expect(p.signal).toBe('SIGKILL');
  }, 180_000);
});
