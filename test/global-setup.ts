import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { down, LOGS_DIR, STATE_DIR, status, up } from './env/index.ts';

/**
 * vitest globalSetup of the `integration` project: brings the local environment up once per test run
 * (reusing a running one), and tears it down afterwards only if a test run started it and no other
 * test run still uses it. An environment started by `npm run env:up` is left running.
 */
const USERS_DIR = join(STATE_DIR, '..', 'env-users');
const me = join(USERS_DIR, String(process.pid));

export default async function setup(): Promise<() => Promise<void>> {
  mkdirSync(USERS_DIR, { recursive: true });
  writeFileSync(me, '');
  try {
    const result = await up((line) => console.log(`[env] ${line}`), 'test');
    if (!result.reused) console.log(`[env] up in ${(result.totalMs / 1000).toFixed(1)} s`);
  } catch (err) {
    rmSync(me, { force: true });
    console.error(`[env] the local environment did not come up; component logs are in ${LOGS_DIR}`);
    throw err;
  }
  return teardown;
}

async function teardown(): Promise<void> {
  rmSync(me, { force: true });
  const current = await status();
  if (current.owner !== 'test' || otherUsers().length > 0) return;
  await down();
}

/** Test runs (by PID) still registered and alive. */
function otherUsers(): number[] {
  return readdirSync(USERS_DIR)
    .map(Number)
    .filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        rmSync(join(USERS_DIR, String(pid)), { force: true });
        return false;
      }
    });
}
