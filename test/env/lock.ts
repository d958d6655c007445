import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs `fn` holding an exclusive lock (a directory made atomically with mkdir, holding the holder's
 * PID). A lock whose holder process is gone is taken over. Waits up to `timeoutMs` (default 20 min:
 * another holder may be building kube-apiserver).
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 20 * 60_000): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  while (!tryAcquire(path)) {
    if (Date.now() > deadline)
      throw new Error(`lock ${path} still held by pid ${holder(path)} after ${timeoutMs} ms`);
    await sleep(500); // poll interval of this deadline-bounded wait for the lock
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

function tryAcquire(path: string): boolean {
  try {
    mkdirSync(path);
  } catch {
    const pid = holder(path);
    // No PID yet means the holder is between mkdir and write: treat as held.
    if (pid !== undefined && !alive(pid)) rmSync(path, { recursive: true, force: true });
    return false;
  }
  writeFileSync(join(path, 'pid'), String(process.pid));
  return true;
}

function holder(path: string): number | undefined {
  try {
    return Number(readFileSync(join(path, 'pid'), 'utf8'));
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
