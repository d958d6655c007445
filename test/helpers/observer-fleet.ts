import type { ObserverProcess } from './observer-process.ts';

/**
 * N observer processes (replicas) that a test kills (SIGKILL) and restarts one at a time. Each
 * replica keeps its directory across restarts; what they share is in their config (the index URL).
 */
export class ObserverFleet {
  readonly #start: (dir?: string) => Promise<ObserverProcess>;
  readonly replicas: ObserverProcess[] = [];
  kills = 0;

  constructor(start: (dir?: string) => Promise<ObserverProcess>) {
    this.#start = start;
  }

  /** Starts `size` replicas and waits until every one is ready. */
  async up(size: number): Promise<void> {
    for (let i = 0; i < size; i++) this.replicas.push(await this.#start());
    await Promise.all(this.replicas.map((r) => r.ready()));
  }

  /** SIGKILLs replica `i`, starts it again on its directory and waits until it is ready. */
  async killAndRestart(i: number): Promise<void> {
    const old = this.replicas[i];
    await old.kill();
    this.kills++;
    const next = await this.#start(old.dir);
    this.replicas[i] = next;
    await next.ready();
  }

  /** Every replica's stderr tail (warnings and errors), for a failure message. */
  stderr(): string {
    return this.replicas.map((r, i) => `--- replica ${i}\n${r.stderr()}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.stop()));
  }
}
