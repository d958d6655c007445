import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/provenance-observer.js');
/** the compiled service, as the image runs it (dist/), built into .local so dist/ stays the user's */
const BUILT = join(ROOT, '.local/bench-dist');

/** Compiles src/ the way the image does (tsconfig.build.json) into .local/bench-dist; returns main.js. */
export function buildObserver(): string {
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      BUILT,
      '--sourceMap',
      'false',
    ],
    {
      stdio: 'inherit',
    },
  );
  return join(BUILT, 'cli/main.js');
}
const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat times are in 1/100 s

/** The observer as its own process (`provenance-observer run`), with /proc sampling of RSS and CPU. */
export class ObserverProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly #samples: number[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #stderr: string[] = [];

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
    this.#timer = setInterval(() => {
      const rss = this.rssMiB();
      if (rss !== undefined) this.#samples.push(rss);
    }, 100);
    child.stderr?.on('data', (b: Buffer) => {
      this.#stderr.push(b.toString());
      if (this.#stderr.length > 50) this.#stderr.shift();
    });
  }

  /** Starts `run` with a config file of `config` on an empty index, as the observer's identity. */
  static async start(options: {
    /** the compiled main.js (buildObserver); default bin/provenance-observer.js */
    main?: string;
    kubeconfig: string;
    config: Record<string, string>;
    nodeOptions?: string[];
  }): Promise<ObserverProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'bench-observer-'));
    const port = await freePort();
    const config = {
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
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DOCKER_CONFIG: dir } },
    );
    return new ObserverProcess(child, port);
  }

  /** Resolves when /readyz answers 200; fails with the process's last stderr if it exits first. */
  async ready(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`observer exited ${this.child.exitCode}: ${this.#stderr.join('')}`);
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

  /** User + system CPU seconds used so far (from /proc/<pid>/stat). */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  /** Highest RSS sampled (every 100 ms) since start, MiB. */
  peakRssMiB(): number {
    return Math.max(0, ...this.#samples);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (this.child.exitCode !== null) return;
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
