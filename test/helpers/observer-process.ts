import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { recommendedArtifactSettings } from './deploy-settings.ts';
import { cpuMsOf } from './proc-cpu.ts';

const BIN = resolve(import.meta.dirname, '../../bin/provenance-observer.js');

/** Directories this module made; a restart reuses one (start with `dir`), so they go when the test process exits. */
const made = new Set<string>();
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
function madeDir(dir: string): string {
  made.add(dir);
  return dir;
}

/**
 * The observer as its own process (`provenance-observer run`), with /proc sampling of RSS and CPU.
 * Its state (config file, SQLite index unless `index.url` is set, docker config) is in `dir`; start
 * another on the same `dir` to restart it on the same index.
 */
export class ObserverProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly dir: string;
  readonly #samples: number[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #stderr: string[] = [];
  readonly #log: string[] = [];

  private constructor(child: ChildProcess, port: number, dir: string) {
    this.child = child;
    this.port = port;
    this.dir = dir;
    this.#timer = setInterval(() => {
      const rss = this.rssMiB();
      if (rss !== undefined) this.#samples.push(rss);
    }, 100);
    child.stderr?.on('data', (b: Buffer) => {
      this.#stderr.push(b.toString());
      if (this.#stderr.length > 50) this.#stderr.shift();
    });
    child.stdout?.on('data', (b: Buffer) => {
      this.#log.push(b.toString());
      if (this.#log.length > 2000) this.#log.shift();
    });
  }

  /**
   * Starts `run` with a config file of `config`, as the observer's identity. `dir`: a previous
   * process's directory (its index), default a new one (an empty index); `env`: added to the
   * process's environment (e.g. the test-only fault hook); `main`: the compiled main.js the
   * benches run (bench/backlog/observer-process.ts buildObserver), default bin/provenance-observer.js.
   */
  static async start(options: {
    kubeconfig: string;
    config: Record<string, string>;
    nodeOptions?: string[];
    dir?: string;
    env?: Record<string, string>;
    main?: string;
  }): Promise<ObserverProcess> {
    const dir = options.dir ?? madeDir(mkdtempSync(join(tmpdir(), 'observer-process-')));
    const port = await freePort();
    const config = {
      // deploy/'s recommended formats and storage (the defaults are Chains': in-toto, tekton only)
      ...recommendedArtifactSettings(),
      'index.path': join(dir, 'index.db'),
      'http.host': '127.0.0.1',
      'http.port': String(port),
      'log.level': 'warn',
      ...options.config,
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeOptions ?? []),
        options.main ?? BIN,
        'run',
        '--config',
        join(dir, 'config.json'),
        '--kubeconfig',
        options.kubeconfig,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOCKER_CONFIG: dir, ...options.env } },
    );
    return new ObserverProcess(child, port, dir);
  }

  /** Resolves when /readyz answers 200; fails with the process's last stderr if it exits first. */
  async ready(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(
          `observer exited ${this.child.exitCode ?? this.child.signalCode}: ${this.#stderr.join('')}`,
        );
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/readyz`)).status === 200) return;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`observer not ready after ${timeoutMs} ms: ${this.#stderr.join('')}`);
  }

  /** The observer's /metrics text. */
  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  /** Resident set size now, MiB (from /proc/<pid>/status VmRSS). */
  rssMiB(): number | undefined {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** The resident set now by kind, MiB (/proc/<pid>/status): anonymous memory and pages of mapped files (the node binary, libraries). */
  rssPartsMiB(): { anon: number; file: number } | undefined {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = (name: string) =>
        Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
      return { anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
    } catch {
      return undefined;
    }
  }

  /** User + system CPU seconds used so far (from /proc/<pid>/stat). */
  cpuSeconds(): number {
    return cpuMsOf(this.child.pid ?? 0) / 1000;
  }

  /** Highest RSS sampled (every 100 ms) since start, MiB. */
  peakRssMiB(): number {
    return Math.max(0, ...this.#samples);
  }

  /** The last lines the process wrote to stderr (a crash's message). */
  stderr(): string {
    return this.#stderr.join('');
  }

  /** The last lines of the process's log (stdout: JSON lines at `log.level`, warn unless configured). */
  log(): string {
    return this.#log.join('');
  }

  /** Resolves with the signal (or exit code) once the process has exited. */
  async exited(): Promise<string> {
    clearInterval(this.#timer);
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child.signalCode ?? String(this.child.exitCode);
    await new Promise((r) => this.child.once('exit', r));
    return this.child.signalCode ?? String(this.child.exitCode);
  }

  /** SIGKILL: no shutdown at all, as the OOM killer or a node loss would. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}
