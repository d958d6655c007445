import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RegistryProcess, startRegistry, stopDaemon } from '../env/index.ts';

/**
 * A registry of the test's own (Debian's docker-registry, anonymous, plain HTTP) that the test can
 * restart: stopped (SIGTERM) and started again on the same port over the same storage, so clients
 * keep their references and find what was pushed before.
 */
export class RestartableRegistry {
  readonly #dir: string;
  #process: RegistryProcess;
  restarts = 0;

  private constructor(dir: string, process: RegistryProcess) {
    this.#dir = dir;
    this.#process = process;
  }

  static async start(): Promise<RestartableRegistry> {
    const dir = mkdtempSync(join(tmpdir(), 'restartable-registry-'));
    return new RestartableRegistry(dir, await startRegistry('registry', dir, dir));
  }

  /** host:port on 127.0.0.1 */
  get address(): string {
    return this.#process.address;
  }

  async restart(): Promise<void> {
    const port = Number(this.address.split(':')[1]);
    await stopDaemon(this.#process.daemon);
    this.#process = await startRegistry('registry', this.#dir, this.#dir, undefined, port);
    this.restarts++;
  }

  async stop(): Promise<void> {
    await stopDaemon(this.#process.daemon);
  }
}
