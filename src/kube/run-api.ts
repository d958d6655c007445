import { BoundedCache } from '../cache/index.ts';
import { ObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import { describeRun, type RunKey, runPlural } from '../tekton/index.ts';
import { KubeApiError } from './client/kube-api-error.ts';
import type { KubeConnection } from './client/kube-connection.ts';
import { KubeJson, MERGE_PATCH } from './client/kube-json.ts';

/** A Tekton run as the apiserver returns it; the tekton/ views type the fields we read. */
export type RunObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export interface RunList {
  items: RunObject[];
  resourceVersion: string;
  continueToken?: string;
}

const GROUP = 'tekton.dev';
/** runs whose last own write is remembered (the writes of the last few minutes at any drain rate) */
const OWN_WRITES_REMEMBERED = 10_000;
const VERSION = 'v1';
/** The field manager of every write the observer makes (Chains uses `tekton-chains-controller`). */
export const FIELD_MANAGER = 'provenance-observer';

/** Thin client for tekton.dev/v1 runs. Errors are ObserverError('kube'), naming the run. */
export class RunApi {
  readonly #api: KubeJson;
  /** uid → resourceVersion our last patch of that run produced (its watch echo is ours) */
  readonly #ownWrites = new BoundedCache<string>({ maxEntries: OWN_WRITES_REMEMBERED });
  /** uid → our patch of that run still waiting for its answer (its echo may arrive first) */
  readonly #writing = new Map<string, Promise<unknown>>();

  constructor(options: { connection: KubeConnection }) {
    this.#api = new KubeJson(options.connection);
  }

  /** The latest object, or undefined when it no longer exists. `context`: the attempt it is read for. */
  async get(key: RunKey, context?: AttemptContext): Promise<RunObject | undefined> {
    try {
      return await this.#api.send<RunObject>('GET', runPath(key.kind, key.namespace, key.name), { context });
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw kubeError(`reading ${describeRun(key)}`, err);
    }
  }

  /**
   * Merges annotations (a JSON merge patch; `null` removes one). With `uid` the patch only applies
   * to that incarnation of the run (a precondition), so a re-created run is never marked by mistake.
   */
  async patchAnnotations(
    key: RunKey,
    annotations: Record<string, string | null>,
    uid?: string,
    context?: AttemptContext,
  ): Promise<void> {
    const metadata: Record<string, unknown> = { annotations };
    if (uid) metadata.uid = uid;
    const write = this.#api.send<Partial<RunObject> | undefined>(
      'PATCH',
      runPath(key.kind, key.namespace, key.name),
      { query: { fieldManager: FIELD_MANAGER }, body: { metadata }, contentType: MERGE_PATCH, context },
    );
    if (uid) this.#writing.set(uid, write);
    try {
      const md = (await write)?.metadata;
      if (md?.uid && md.resourceVersion) this.#ownWrites.set(md.uid, md.resourceVersion);
    } catch (err) {
      throw kubeError(`annotating ${describeRun(key)}`, err);
    } finally {
      if (uid && this.#writing.get(uid) === write) this.#writing.delete(uid);
    }
  }

  /**
   * Whether this resourceVersion of the run is the one our own last patch produced: its watch
   * event (the echo) carries nothing the observer did not just write. Any later change by anyone
   * has another resourceVersion. While a patch of the run is in flight, answers after it.
   */
  async isOwnWrite(uid: string, resourceVersion: string): Promise<boolean> {
    // the apiserver may send the watch event before the patch's answer reaches us: wait for it
    const writing = this.#writing.get(uid);
    if (writing) await writing.catch(() => undefined);
    if (this.#ownWrites.get(uid) !== resourceVersion) return false;
    this.#ownWrites.delete(uid); // an echo comes once
    return true;
  }

  /**
   * Sets the run's whole finalizer list, only if the run is still at `resourceVersion` (a JSON merge
   * patch carrying the version is a precondition: 409 Conflict when anyone changed the run since),
   * so a finalizer someone else added meanwhile is never dropped. Returns 'conflict' on 409 and
   * 'gone' on 404, for the caller to re-read or stop; other failures throw.
   */
  async setFinalizers(
    key: RunKey,
    finalizers: readonly string[],
    resourceVersion: string,
  ): Promise<'ok' | 'conflict' | 'gone'> {
    try {
      await this.#api.send('PATCH', runPath(key.kind, key.namespace, key.name), {
        query: { fieldManager: FIELD_MANAGER },
        body: { metadata: { resourceVersion, finalizers } },
        contentType: MERGE_PATCH,
      });
      return 'ok';
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409) return 'conflict';
      if (err instanceof KubeApiError && err.code === 404) return 'gone';
      throw kubeError(`setting finalizers of ${describeRun(key)}`, err);
    }
  }

  /** One page of runs of a kind (all namespaces, or one; only those matching `labelSelector` when given). */
  async list(
    kind: RunKey['kind'],
    options: { namespace?: string; limit: number; continueToken?: string; labelSelector?: string },
  ): Promise<RunList> {
    try {
      const res = await this.#api.send<{
        items: RunObject[];
        metadata: { resourceVersion: string; continue?: string };
      }>('GET', runPath(kind, options.namespace), {
        query: {
          limit: options.limit,
          continue: options.continueToken,
          labelSelector: options.labelSelector,
        },
      });
      return {
        items: res.items,
        resourceVersion: res.metadata.resourceVersion,
        continueToken: res.metadata.continue || undefined,
      };
    } catch (err) {
      throw kubeError(`listing ${runPlural(kind)}`, err);
    }
  }
}

/** `/apis/tekton.dev/v1[/namespaces/<ns>]/<plural>[/<name>]` */
function runPath(kind: RunKey['kind'], namespace?: string, name?: string): string {
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const one = name ? `/${encodeURIComponent(name)}` : '';
  return `/apis/${GROUP}/${VERSION}${scope}/${runPlural(kind)}${one}`;
}

/**
 * Whether a failed uid-preconditioned patch (patchAnnotations with `uid`) says that incarnation of
 * the run is gone: 404, or 409 (a merge patch only conflicts on its uid precondition: the name now
 * belongs to a re-created run). E.g. marking a run attested from its captured copy.
 */
export function isRunGone(err: unknown): boolean {
  const cause = err instanceof ObserverError ? err.cause : err;
  return cause instanceof KubeApiError && (cause.code === 404 || cause.code === 409);
}

/** 409/429/5xx and network errors are retryable; other 4xx are not. */
export function kubeError(context: string, err: unknown): ObserverError {
  const code = err instanceof KubeApiError ? err.code : undefined;
  const retryable = code === undefined || code === 409 || code === 429 || code >= 500;
  return new ObserverError(`${context}: ${(err as Error)?.message}`, { code: 'kube', retryable, cause: err });
}
