import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A daemon started by the environment; `down` stops it by this PID only. */
export interface Daemon {
  name: string;
  pid: number;
  /** a word of the daemon's command line, checked before signalling so a reused PID is never hit */
  marker: string;
  logFile: string;
  /** the signal that asks for a prompt, clean stop; default SIGTERM */
  stopSignal?: NodeJS.Signals;
}

/**
 * Starts `command args` detached (it outlives `env up`), stdout and stderr appended to `logFile`.
 * Fails when the command cannot be spawned (missing binary).
 */
export async function startDaemon(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  marker = command,
): Promise<Daemon> {
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`starting ${name} (${command}): ${err.message}`)));
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`starting ${name}: no PID`);
  return { name, pid: child.pid, marker, logFile };
}

/** True when `pid` is alive and its command line still contains the daemon's marker. */
export function isRunning(daemon: Daemon): boolean {
  try {
    const cmdline = readFileSync(`/proc/${daemon.pid}/cmdline`, 'utf8');
    const state = readFileSync(`/proc/${daemon.pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && cmdline.includes(daemon.marker);
  } catch {
    return false;
  }
}

/** The daemon's stop signal (SIGTERM by default), then SIGKILL after `graceMs`; resolves once the process is gone. Never signals a reused PID. */
export async function stopDaemon(daemon: Daemon, graceMs = 10_000): Promise<void> {
  if (!isRunning(daemon)) return;
  process.kill(daemon.pid, daemon.stopSignal ?? 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(daemon)) {
    if (Date.now() > deadline) {
      process.kill(daemon.pid, 'SIGKILL');
      // poll interval (5 s at most) until the killed process is gone
      for (let i = 0; i < 50 && isRunning(daemon); i++) await sleep(100);
      return;
    }
    await sleep(100); // poll interval of this deadline-bounded wait for the exit
  }
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/**
 * Polls `check` until it returns true, failing after `timeoutMs` with the daemon's log file named,
 * or at once when the daemon has died.
 */
export async function waitReady(
  daemon: Daemon,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(daemon)) {
      throw new Error(
        `${daemon.name} exited during start-up: see ${daemon.logFile}${logTail(daemon.logFile)}`,
      );
    }
    if (await check().catch(() => false)) return;
    await sleep(250); // poll interval of this deadline-bounded readiness check
  }
  throw new Error(
    `${daemon.name} not ready after ${timeoutMs / 1000} s: see ${daemon.logFile}${logTail(daemon.logFile)}`,
  );
}

/** The last lines of a daemon's log, indented, for an error that may be all a CI log keeps. */
function logTail(logFile: string, lines = 15): string {
  try {
    const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines);
    return tail.length === 0 ? '' : `; its last lines:\n${tail.map((line) => `  | ${line}`).join('\n')}`;
  } catch {
    return '';
  }
}

/** GET `url` and return the status (0 when the connection fails); TLS is not verified (local self-signed). */
export function httpStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve) => {
    const req = get(url, { headers, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}
