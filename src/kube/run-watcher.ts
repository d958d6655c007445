import { type MemoryBudget, processMemoryBudget } from '../cache/index.ts';
import type { Logger } from '../observability/index.ts';
import { Backoff } from '../retry/index.ts';
import type { RunObservation, RunSource } from '../tekton/index.ts';
import { isDone, type RunKind, runPlural } from '../tekton/index.ts';
import type { StreamedItem } from './client/json-items.ts';
import { MAX_ITEM_BYTES } from './client/json-items.ts';
import { kubeStatusOf } from './client/kube-api-error.ts';
import type { KubeConnection } from './client/kube-connection.ts';
import { listPage, nextPageSize } from './client/kube-list.ts';
import { type WatchEvent, watch } from './client/kube-watch.ts';
import { managedByAccepted } from './managed-by.ts';
import type { RunApi, RunObject } from './run-api.ts';

export interface RunWatcherOptions {
  connection: KubeConnection;
  runApi: RunApi;
  logger: Logger;
  /** namespaces to watch; empty = cluster-wide */
  namespaces: readonly string[];
  /** extra spec.managedBy values accepted (filter.managed-by) */
  managedBy: readonly string[];
  /** largest page size of the (re-)list (it shrinks for large runs: nextPageSize); default 500 */
  pageSize?: number;
  /**
   * told about a run over MAX_ITEM_BYTES, seen in a list or watch: it was handled from its metadata
   * (not observed); default: the warning in the log only
   */
  reportOversized?: (run: OversizedRun) => void;
  /** what list items in flight reserve their bytes from; default the process's memory budget */
  budget?: MemoryBudget;
  /** server-side watch timeout; default 300 s */
  watchTimeoutSeconds?: number;
  clock?: () => number;
  /** waits between retries (backoff); default a timer that does not keep the process alive */
  sleep?: (ms: number) => Promise<void>;
}

/** A run too large to handle whole: what its metadata said. */
export interface OversizedRun {
  kind: RunKind;
  namespace: string;
  name: string;
  uid: string;
  /** its JSON bytes (at least MAX_ITEM_BYTES) */
  bytes: number;
}

interface StreamState {
  abort?: AbortController;
  synced: boolean;
  stopped: boolean;
}

/**
 * Lists then watches TaskRuns and PipelineRuns without a cache: each object is handed on as a
 * RunObservation and dropped. Paged lists keep a re-list of a large cluster bounded in memory: the
 * next page is fetched once the observer settled every run of this one. DELETED events are
 * delivered too (`deleted: true`, with the run's final object), so a run deleted right after it
 * finished is still captured.
 *
 * Resilience (client-node's ListWatch, which this replaced, stopped reconnecting on non-410 errors
 * and on a failed list: kubernetes-client/javascript#2385, #2222):
 * - a watch the server closes is resumed from the last resourceVersion (bookmarks keep it fresh);
 * - 410 Gone (as HTTP status or ERROR event) → re-list, then watch from the new version;
 * - a watch silent for 30 s (kube-watch.ts) is resumed like a closed one;
 * - any other failure (reset, apiserver down) → retry with jittered exponential backoff.
 */
export class RunWatcher implements RunSource {
  readonly #o: Required<RunWatcherOptions>;
  readonly #streams = new Map<string, StreamState>();
  readonly #lastEventAt: Partial<Record<RunKind, number>> = {};
  #observe: (o: RunObservation) => void | Promise<void> = () => {};
  #stopped = false;

  constructor(options: RunWatcherOptions) {
    this.#o = {
      pageSize: 500,
      watchTimeoutSeconds: 300,
      clock: Date.now,
      sleep,
      reportOversized: () => {},
      budget: processMemoryBudget,
      ...options,
    };
  }

  async start(observe: (observation: RunObservation) => void | Promise<void>): Promise<void> {
    this.#observe = observe;
    const scopes = this.#o.namespaces.length ? this.#o.namespaces : [undefined];
    const firsts: Promise<void>[] = [];
    for (const kind of ['TaskRun', 'PipelineRun'] as const)
      for (const namespace of scopes) firsts.push(this.#run(kind, namespace));
    await Promise.all(firsts);
  }

  stop(): void {
    this.#stopped = true;
    for (const s of this.#streams.values()) {
      s.stopped = true;
      s.abort?.abort();
    }
  }

  synced(): boolean {
    return this.#streams.size > 0 && [...this.#streams.values()].every((s) => s.synced);
  }

  /** Runs one kind×namespace stream forever; resolves after its first successful list. */
  #run(kind: RunKind, namespace: string | undefined): Promise<void> {
    const id = `${kind}/${namespace ?? '*'}`;
    const state: StreamState = { synced: false, stopped: false };
    this.#streams.set(id, state);
    const backoff = new Backoff({ baseMs: 500, maxMs: 30_000 });
    const log = this.#o.logger.child({ stream: id });
    return new Promise<void>((firstListed) => {
      const loop = async () => {
        let resourceVersion: string | undefined;
        while (!this.#stopped) {
          try {
            if (!resourceVersion) {
              resourceVersion = await this.#list(kind, namespace);
              firstListed();
            }
            const watchStarted = this.#o.clock();
            const outcome = await this.#watchOnce(kind, namespace, resourceVersion, state, (rv) => {
              resourceVersion = rv;
            });
            if (outcome === 'gone') {
              log.info('watch expired (410), re-listing');
              resourceVersion = undefined;
            }
            // A watch that ends at once, again and again, must not become a tight loop.
            if (this.#o.clock() - watchStarted < 1000) await this.#o.sleep(backoff.next());
            else backoff.reset();
          } catch (err) {
            state.synced = false;
            const delay = backoff.next();
            log.warn({ err: (err as Error).message, retryInMs: delay }, 'list/watch failed; retrying');
            await this.#o.sleep(delay);
          }
        }
      };
      void loop();
    });
  }

  /**
   * Pages through the current runs, observing each finished one as backlog. Each page is parsed as
   * it streams (listPage): a run is handed on once complete, after reserving its bytes from the
   * memory budget (held until the observer settled it), so neither a page nor the runs in flight
   * hold more than the budget. The page size follows the size of the runs (nextPageSize). The next
   * page is fetched once every run of this one was settled. Returns the list's resourceVersion.
   */
  async #list(kind: RunKind, namespace: string | undefined): Promise<string> {
    let continueToken: string | undefined;
    let resourceVersion = '';
    const listed = { items: 0, bytes: 0 };
    const path = runsPath(kind, namespace);
    do {
      const settling: Promise<void>[] = [];
      const limit = nextPageSize(this.#o.pageSize, listed);
      const page = await listPage(
        this.#o.connection,
        path,
        { limit, continue: continueToken },
        async (item) => {
          const held = await this.#reserveListed(item.bytes, settling);
          settling.push(this.#deliverItem(kind, item, 'backlog').finally(() => held.release()));
        },
      ).finally(() => Promise.all(settling));
      await Promise.all(settling);
      listed.items += page.items;
      listed.bytes += page.bytes;
      continueToken = page.continueToken;
      resourceVersion = page.resourceVersion;
      this.#touch(kind);
    } while (continueToken && !this.#stopped);
    return resourceVersion;
  }

  /**
   * The memory budget for a listed run. While this list's own runs hold budget, it waits for them to
   * settle rather than queue: a queued list would hold its runs' bytes while the observer, settling
   * them, may need a read of its own behind it in the queue. Only holding nothing does it queue.
   */
  async #reserveListed(bytes: number, settling: Promise<void>[]) {
    const budget = this.#o.budget;
    for (let i = 0; i < settling.length; i++) {
      const held = budget.tryReserve(bytes);
      if (held) return held;
      await settling[i];
    }
    return budget.tryReserve(bytes) ?? budget.reserve(bytes, 'kube-list');
  }

  /** A streamed run: observed, or reported when it was over MAX_ITEM_BYTES (only its metadata is left). */
  #deliverItem(kind: RunKind, item: StreamedItem, origin: RunObservation['origin'], deleted = false) {
    const obj = item.value as RunObject;
    if (!item.oversized) return this.#deliver(kind, obj, origin, deleted);
    const md = obj.metadata ?? {};
    const run = { kind, namespace: md.namespace, name: md.name, uid: md.uid, bytes: item.bytes };
    this.#o.logger.warn(
      { ...run, limit: MAX_ITEM_BYTES },
      'run object too large to handle: only its metadata was read; not attested',
    );
    if (run.namespace && run.name && run.uid) this.#o.reportOversized(run as OversizedRun);
    return Promise.resolve();
  }

  /** Watches until the stream ends; 'closed' to resume, 'gone' to re-list; throws on failure. */
  async #watchOnce(
    kind: RunKind,
    namespace: string | undefined,
    resourceVersion: string,
    state: StreamState,
    advanced: (rv: string) => void,
  ): Promise<'closed' | 'gone'> {
    const path = runsPath(kind, namespace);
    let gone = false;
    const onEvent = ({ type, object, oversized, bytes }: WatchEvent<RunObject & { code?: number }>) => {
      this.#touch(kind);
      if (type === 'ERROR') {
        if (object?.code === 410) gone = true;
        return;
      }
      const rv = object?.metadata?.resourceVersion;
      if (rv) advanced(rv);
      const item = { value: object, bytes: bytes ?? 0, oversized: oversized === true };
      if (type === 'ADDED' || type === 'MODIFIED') void this.#deliverItem(kind, item, 'live');
      else if (type === 'DELETED') void this.#deliverItem(kind, item, 'live', true);
    };
    const abort = new AbortController();
    state.abort = abort;
    if (state.stopped) abort.abort();
    try {
      await watch(this.#o.connection, path, onEvent, {
        query: { allowWatchBookmarks: true, resourceVersion, timeoutSeconds: this.#o.watchTimeoutSeconds },
        signal: abort.signal,
        onOpen: () => {
          state.synced = true;
        },
      });
      return gone ? 'gone' : 'closed';
    } catch (err) {
      if (gone || kubeStatusOf(err) === 410) return 'gone';
      throw err;
    } finally {
      state.abort = undefined;
    }
  }

  /** Hands one run on; settles when the observer did (never rejects: the observer logs its own failures). */
  async #deliver(
    kind: RunKind,
    obj: RunObject,
    origin: RunObservation['origin'],
    deleted = false,
  ): Promise<void> {
    const md = obj.metadata;
    if (!md?.name || !md.namespace || !md.uid) return;
    if (!managedByAccepted(obj, this.#o.managedBy)) return;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(md.annotations ?? {}))
      if (k.startsWith('chains.tekton.dev/')) annotations[k] = v;
    try {
      await this.#observe({
        key: { kind, namespace: md.namespace, name: md.name },
        uid: md.uid,
        done: isDone(obj),
        annotations,
        origin,
        completedAt: completionTimeOf(obj),
        object: withoutManagedFields(obj),
        ...(deleted ? { deleted } : {}),
        ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
      });
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message, uid: md.uid }, 'observing a run failed');
    }
  }

  #touch(kind: RunKind): void {
    this.#lastEventAt[kind] = this.#o.clock();
  }

  /** Milliseconds since the stream of `kind` last heard from the apiserver (list page, event or bookmark). */
  sinceLastEvent(kind: RunKind): number {
    const at = this.#lastEventAt[kind];
    return at === undefined ? 0 : this.#o.clock() - at;
  }
}

/** `/apis/tekton.dev/v1[/namespaces/<ns>]/<plural>` */
function runsPath(kind: RunKind, namespace: string | undefined): string {
  return namespace
    ? `/apis/tekton.dev/v1/namespaces/${encodeURIComponent(namespace)}/${runPlural(kind)}`
    : `/apis/tekton.dev/v1/${runPlural(kind)}`;
}

/** The object minus metadata.managedFields (server bookkeeping, often the largest part, never provenance). */
function withoutManagedFields(obj: RunObject): Record<string, unknown> {
  const { managedFields: _, ...metadata } = obj.metadata as RunObject['metadata'] & {
    managedFields?: unknown;
  };
  return { ...obj, metadata };
}

function completionTimeOf(obj: RunObject): number | undefined {
  const at = Date.parse(String(obj.status?.completionTime ?? ''));
  return Number.isNaN(at) ? undefined : at;
}

/** Unref'd, so a pending retry never keeps a stopping process alive. */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
