/**
 * Reads the project's Dockerfile and replays its steps without a Docker engine: each stage gets a
 * directory standing for its filesystem root; COPY copies from the build context or an earlier
 * stage; RUN lines that are npm/node commands run for real in the stage's WORKDIR (system package
 * steps such as apt-get are reported and skipped). A broken recipe (a missing COPY, a failing
 * install or build) fails the same way it would fail `docker build`.
 */
import { execSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args[k] = v ?? '';
    } else if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      const image = f[1].replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '');
      stages.push({ name: f[2] ?? `stage-${stages.length}`, image, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

export function execForm(args: string): string[] | undefined {
  try {
    const v = JSON.parse(args) as unknown;
    return Array.isArray(v) ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

export interface ReplayResult {
  /** The directory standing for the final stage's root filesystem. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
  entrypoint: string[];
  skipped: string[];
}

export function replayDockerfile(context: string, text: string, scratch: string): ReplayResult {
  const { stages } = parseDockerfile(text);
  const roots = new Map<string, string>();
  const skipped: string[] = [];
  let result: ReplayResult | undefined;
  for (const stage of stages) {
    const root = join(scratch, stage.name);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    let workdir = '/';
    const env: Record<string, string> = {};
    let cmd: string[] = [];
    let entrypoint: string[] = [];
    const inRoot = (p: string) => join(root, p.startsWith('/') ? p : join(workdir, p));
    for (const { op, args } of stage.instructions) {
      switch (op) {
        case 'WORKDIR':
          workdir = args.startsWith('/') ? args : join(workdir, args);
          mkdirSync(inRoot(workdir), { recursive: true });
          break;
        case 'ENV':
          for (const m of args.matchAll(/(\w+)=(\S+)/g)) env[m[1]] = m[2];
          break;
        case 'COPY': {
          const parts = args.split(/\s+/);
          let from: string | undefined;
          if (parts[0].startsWith('--from=')) from = parts.shift()!.slice('--from='.length);
          const dest = parts.pop()!;
          for (const src of parts) {
            const source = from ? join(roots.get(from) ?? '', src) : join(context, src);
            if (!existsSync(source)) throw new Error(`COPY ${from ? `--from=${from} ` : ''}${src}: no such file in ${from ?? 'the build context'}`);
            const target = dest.endsWith('/') ? join(inRoot(dest), src.split('/').pop()!) : inRoot(dest);
            mkdirSync(dirname(target), { recursive: true });
            cpSync(source, target, { recursive: true });
          }
          break;
        }
        case 'RUN':
          if (/^(npm|node)\s/.test(args)) {
            execSync(args, { cwd: inRoot(workdir), stdio: 'pipe', env: { ...process.env, ...env }, shell: '/bin/sh' });
          } else {
            skipped.push(`${stage.name}: RUN ${args}`);
          }
          break;
        case 'CMD':
          cmd = execForm(args) ?? ['sh', '-c', args];
          break;
        case 'ENTRYPOINT':
          entrypoint = execForm(args) ?? ['sh', '-c', args];
          break;
        default:
          break; // USER, VOLUME, EXPOSE, LABEL: metadata, checked by the caller
      }
    }
    result = { root, workdir: inRoot(workdir), env, cmd, entrypoint, skipped };
  }
  if (!result) throw new Error('the Dockerfile has no stage');
  return result;
}

export function readDockerfile(context: string): string {
  return readFileSync(join(context, 'Dockerfile'), 'utf8');
}
