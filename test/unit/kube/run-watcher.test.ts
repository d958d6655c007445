import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunObservation } from '../../../src/controller/index.ts';
import { KubeConnection, RunApi, RunWatcher } from '../../../src/kube/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { kubeAccessWithToken } from '../../env/index.ts';

// Fault injection: a stand-in apiserver whose list and watch answers each test scripts, to show
// how the watcher survives a 410, a reset connection and a server-side close.
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const taskRun = (name: string, rv: string, done = true) => ({
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv },
  status: { conditions: [{ type: 'Succeeded', status: done ? 'True' : 'Unknown' }] },
});

async function fakeApiserver(handler: Handler) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${url.pathname}?${url.searchParams.toString()}`);
    if (!url.pathname.endsWith('/taskruns')) {
      // PipelineRuns: nothing listed, and a watch that stays open and quiet
      if (url.searchParams.get('watch') === 'true')
        res.writeHead(200, { 'content-type': 'application/json' });
      else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: '1' }, items: [] }));
      return;
    }
    handler(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const access = kubeAccessWithToken(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 't');
  return { server, connection: new KubeConnection({ access }), requests };
}

const list = (res: ServerResponse, rv: string, items: object[]) =>
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ kind: 'TaskRunList', metadata: { resourceVersion: rv }, items }));
const event = (res: ServerResponse, type: string, object: object) =>
  res.write(`${JSON.stringify({ type, object })}\n`);

describe('RunWatcher against a fault-injecting apiserver', () => {
  let stop: (() => void)[] = [];
  afterEach(() => {
    for (const s of stop) s();
    stop = [];
  });

  async function watch(
    handler: Handler,
    options: {
      sleep?: (ms: number) => Promise<void>;
      observe?: (o: RunObservation) => Promise<void>;
      pageSize?: number;
    } = {},
  ) {
    const { server, connection, requests } = await fakeApiserver(handler);
    const seen: RunObservation[] = [];
    const { observe, ...rest } = options;
    const watcher = new RunWatcher({
      connection,
      runApi: new RunApi({ connection }),
      logger: createLogger({ level: 'silent' }),
      namespaces: [],
      managedBy: [],
      ...rest,
    });
    stop.push(
      () => watcher.stop(),
      () => server.close(),
      () => server.closeAllConnections(),
    );
    const started = watcher.start(async (o) => {
      seen.push(o);
      await observe?.(o);
    });
    if (!observe) await started;
    return { seen, requests, watcher };
  }
  /** Polls observable state (what the fake apiserver saw and served) with a 4 s deadline. */
  const until = async (cond: () => boolean) => {
    // a poll interval, not a wait for state: the loop ends as soon as cond() holds
    for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cond()).toBe(true);
  };

  it('lists (backlog), then watches from the list resourceVersion (live); only observations are kept', async () => {
    const { seen, requests } = await watch((_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') {
        list(res, '10', [taskRun('old', '9')]);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      event(res, 'ADDED', taskRun('fresh', '11'));
    });
    await until(() => seen.length === 2);
    expect(seen.map((s) => [s.key.name, s.origin, s.done])).toEqual([
      ['old', 'backlog', true],
      ['fresh', 'live', true],
    ]);
    expect(requests.find((r) => r.includes('taskruns') && r.includes('watch=true'))).toContain(
      'resourceVersion=10',
    );
  });

  it('re-lists after 410 Gone and watches from the new version', async () => {
    let lists = 0;
    const { seen, requests } = await watch((_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') {
        list(res, String(100 * ++lists), [taskRun(`listed-${lists}`, '5')]);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (url.searchParams.get('resourceVersion') === '100') {
        event(res, 'ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
        res.end();
      }
    });
    await until(() => seen.some((s) => s.key.name === 'listed-2'));
    await until(() =>
      requests.some(
        (r) => r.includes('taskruns') && r.includes('watch=true') && r.includes('resourceVersion=200'),
      ),
    );
  });

  it('resumes from the last seen version when the server closes the watch, without re-listing', async () => {
    let watches = 0;
    const { seen, requests } = await watch((_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') {
        list(res, '1', []);
        return;
      }
      watches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (watches === 1) {
        event(res, 'ADDED', taskRun('a', '2'));
        event(res, 'BOOKMARK', { kind: 'TaskRun', metadata: { resourceVersion: '7' } });
        res.end();
      } else event(res, 'ADDED', taskRun('b', '8'));
    });
    await until(() => seen.some((s) => s.key.name === 'b'));
    const watchRequests = requests.filter((r) => r.includes('taskruns') && r.includes('watch=true'));
    expect(watchRequests[1]).toContain('resourceVersion=7');
    expect(requests.filter((r) => !r.includes('watch=true') && r.includes('taskruns'))).toHaveLength(1);
  });

  it('retries after the connection is reset, and after the apiserver refuses (500)', async () => {
    let watches = 0;
    // the retry timer is injected: it records each backoff delay and returns at once
    const delays: number[] = [];
    const sleep = async (ms: number) => {
      delays.push(ms);
    };
    const { seen } = await watch(
      (req, res, url) => {
        if (url.searchParams.get('watch') !== 'true') {
          list(res, '1', []);
          return;
        }
        watches++;
        if (watches === 1) {
          req.socket.destroy();
          return;
        }
        if (watches === 2) {
          res.writeHead(500).end('{"kind":"Status","code":500}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        event(res, 'MODIFIED', taskRun('after-faults', '3'));
      },
      { sleep },
    );
    await until(() => seen.some((s) => s.key.name === 'after-faults'));
    expect(watches).toBe(3);
    // one backoff per fault, growing: base 500 ms with equal jitter (250–500 ms, then 500–1000 ms)
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(250);
    expect(delays[0]).toBeLessThanOrEqual(500);
    expect(delays[1]).toBeGreaterThanOrEqual(500);
    expect(delays[1]).toBeLessThanOrEqual(1000);
  });

  it('delivers a DELETED event with the final object (no managedFields), flagged deleted', async () => {
    const final = {
      ...taskRun('gone', '12'),
      metadata: { ...taskRun('gone', '12').metadata, managedFields: [{ manager: 'x' }] },
    };
    const { seen } = await watch((_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') {
        list(res, '10', []);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      event(res, 'DELETED', final);
    });
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ key: { name: 'gone' }, uid: 'uid-gone', done: true, deleted: true });
    expect(seen[0].object?.metadata).toEqual(taskRun('gone', '12').metadata);
    expect(seen[0].object?.status).toEqual(final.status);
  });

  it('fetches the next list page only once every run of the page was observed (back-pressure)', async () => {
    const gates: (() => void)[] = [];
    let released = 0;
    let releasedWhenPage2Asked = -1;
    const { seen } = await watch(
      (_req, res, url) => {
        if (url.searchParams.get('watch') === 'true') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return;
        }
        const page2 = url.searchParams.get('continue') === 'p2';
        if (page2) releasedWhenPage2Asked = released;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            kind: 'TaskRunList',
            metadata: { resourceVersion: '5', ...(page2 ? {} : { continue: 'p2' }) },
            items: page2 ? [taskRun('c', '4')] : [taskRun('a', '2'), taskRun('b', '3')],
          }),
        );
      },
      { observe: () => new Promise<void>((r) => gates.push(r)), pageSize: 2 },
    );
    const release = (i: number) => {
      released++;
      gates[i]();
    };
    await until(() => seen.length === 2);
    release(0);
    release(1);
    await until(() => seen.length === 3);
    release(2);
    // page 2 was asked for only after both runs of page 1 were settled
    expect(releasedWhenPage2Asked).toBe(2);
  });
});
