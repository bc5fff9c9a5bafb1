import { describe, expect, it } from 'vitest';
import { BaseComponent } from '../../src/component.js';

class Recorder extends BaseComponent {
  events: string[] = [];
  protected async doStart() {
    this.events.push('start');
  }
  protected override async doFlush() {
    this.events.push('flush');
  }
  protected async doStop() {
    this.events.push('stop');
  }
}

describe('BaseComponent', () => {
  it('stop is idempotent and concurrent stops share one run', async () => {
    const c = new Recorder('c');
    await c.start();
    await c.start();
    await Promise.all([c.stop(), c.stop()]);
    await c.stop();
    expect(c.events).toEqual(['start', 'stop']);
  });

  it('stop before start is safe and does nothing; flush runs only while running', async () => {
    const c = new Recorder('c');
    await c.flush();
    await c.stop();
    await c.start();
    expect(c.events).toEqual([]);
    const d = new Recorder('d');
    await d.start();
    await d.flush();
    await d.stop();
    await d.flush();
    expect(d.events).toEqual(['start', 'flush', 'stop']);
  });
});
