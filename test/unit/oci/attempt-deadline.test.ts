import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { type AttemptContext, NO_ATTEMPT } from '../../../src/model/index.ts';
import {
  appendToTag,
  CircuitBreakers,
  HostPolicy,
  KeyedBatcher,
  RegistryClient,
} from '../../../src/oci/index.ts';
import { withDeadline } from '../../../src/reconcile/deadline.ts';

/** A registry that answers after 29 s (as in the issue); records when each connection closed. */
async function slowRegistry(handle?: (req: IncomingMessage, res: ServerResponse) => boolean) {
  const closed: { url: string; at: number }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    req.socket.on('close', () => closed.push({ url: req.url ?? '', at: Date.now() }));
    if (handle?.(req, res)) return;
    const t = setTimeout(() => res.writeHead(404).end(), 29_000);
    timers.add(t);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    closed,
    close: () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      server.close();
    },
  };
}

const DEADLINE_MS = 300;
/** Runs `work` as an attempt with a deadline of DEADLINE_MS (as the reconciler runs Attestor.attest). */
const within = (work: (attempt: AttemptContext) => Promise<unknown>) =>
  withDeadline(NO_ATTEMPT, work, DEADLINE_MS, 'attesting TaskRun t/r');

describe('the attempt deadline cancels registry work in flight', () => {
  let cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup) c();
    cleanup = [];
  });

  const clientFor = (host: string, breakers = new CircuitBreakers()) =>
    new RegistryClient({
      registry: host,
      insecure: true,
      policy: new HostPolicy({ allowed: ['127.0.0.1'] }),
      breakers,
    });

  it('a request to a 29-second registry is aborted at the deadline: the registry sees the connection closed', async () => {
    const registry = await slowRegistry();
    cleanup.push(registry.close);
    const breakers = new CircuitBreakers({ failureThreshold: 1 });
    const client = clientFor(registry.host, breakers);
    const started = Date.now();
    await expect(within((attempt) => client.headManifest('app', 'v1', attempt))).rejects.toThrow(
      /deadline of 0.3 s/,
    );
    await expect.poll(() => registry.closed.length, { timeout: 2_000 }).toBe(1);
    expect((registry.closed[0]?.at ?? 0) - started).toBeLessThan(DEADLINE_MS + 1_000);
    // our own deadline is no verdict on the host: its circuit stays closed
    expect(breakers.state(registry.host)).toBe('closed');
  });

  it('a token request to a realm that hangs is aborted too', async () => {
    let realm = '';
    const registry = await slowRegistry((req, res) => {
      if (req.url?.startsWith('/token')) return false; // hangs
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="r"` }).end();
      return true;
    });
    cleanup.push(registry.close);
    realm = `http://${registry.host}/token`;
    const started = Date.now();
    await expect(
      within((attempt) => clientFor(registry.host).getManifest('app', 'v1', attempt)),
    ).rejects.toThrow(/deadline/);
    await expect
      .poll(() => registry.closed.some((c) => c.url.startsWith('/token')), { timeout: 2_000 })
      .toBe(true);
    const token = registry.closed.find((c) => c.url.startsWith('/token'));
    expect((token?.at ?? 0) - started).toBeLessThan(DEADLINE_MS + 1_000);
  });

  it('the tag appender stops its retry loop at the deadline', async () => {
    let reads = 0;
    const failing = {
      registry: 'r.test',
      getManifest: async () => {
        reads++;
        throw new ObserverError('GET manifest: 503', { code: 'registry', retryable: true });
      },
    } as unknown as RegistryClient;
    const append = (context: AttemptContext) =>
      appendToTag({
        context,
        client: failing,
        repository: 'app',
        tag: 'sha256-x.att',
        additions: [],
        document: {
          entries: () => [],
          render: () => ({ bytes: new Uint8Array(), mediaType: '', blobs: [] }),
        },
        maxAttempts: 1_000,
        sleep: (ms: number) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
      } as unknown as Parameters<typeof appendToTag>[0]);
    await expect(within(append)).rejects.toThrow(/deadline/);
    const atDeadline = reads;
    await new Promise((r) => setTimeout(r, 200));
    expect(reads).toBe(atDeadline);
    expect(reads).toBeLessThan(1_000);
  });

  it('a batched append goes on while one of its submitters still has time', async () => {
    const batcher = new KeyedBatcher<string, string[]>();
    const seen: (AbortSignal | undefined)[] = [];
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const run = async (items: string[]) => {
      await gate;
      return items;
    };
    const first = new AbortController();
    const second = new AbortController();
    const attempt = (signal: AbortSignal): AttemptContext => ({ lane: 'backlog', signal });
    // the first batch runs alone; the next collects two submitters with their own deadlines
    const a = batcher.submit('tag', 'a', run, { context: attempt(first.signal) });
    const b = batcher.submit(
      'tag',
      'b',
      async (items, context) => {
        seen.push(context.signal);
        return items;
      },
      { context: attempt(first.signal) },
    );
    const c = batcher.submit('tag', 'c', run, { context: attempt(second.signal) });
    first.abort(new Error('first attempt past its deadline'));
    release();
    expect(await a).toEqual(['a']);
    expect(await b).toEqual(['b', 'c']);
    expect(await c).toEqual(['b', 'c']);
    expect(seen[0]?.aborted).toBe(false);
    second.abort(new Error('second too'));
    expect(seen[0]?.aborted).toBe(true);
  });
});
