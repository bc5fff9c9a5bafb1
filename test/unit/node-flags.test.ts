import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { ROOT } from '../helpers/cli.js';

describe('the V8 flags tracetail runs with', () => {
  it('are the same in the executable, npm start and the image', () => {
    const shebang = readFileSync(join(ROOT, 'src/cli.ts'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toBe(`exec node ${NODE_FLAGS.join(' ')} dist/cli.js run --config config/tracetail.yaml`);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain(`ENV NODE_OPTIONS="${NODE_FLAGS.join(' ')}"`);
  });
});
