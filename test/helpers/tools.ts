/**
 * Tests that need a system tool (Prometheus, logrotate, Chromium) skip with the install command
 * when it is missing; under CI=true a missing tool is a failure, not a skip.
 */
import { execFileSync } from 'node:child_process';

export const INSTALL_HINT = 'apt-get install -y --no-install-recommends prometheus logrotate chromium';

export function hasTool(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when the tests may run; false (with a message) when they should be skipped. Throws under CI. */
export function requireTool(command: string): boolean {
  if (hasTool(command)) return true;
  const message = `${command} is not installed; install it with: ${INSTALL_HINT}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing tool fails the run)`);
  console.warn(`skipping: ${message}`);
  return false;
}
