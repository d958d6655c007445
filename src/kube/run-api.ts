import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { BoundedCache } from '../cache/index.ts';
import { ObserverError } from '../errors.ts';
import { describeRun, type RunKey, runPlural } from '../tekton/index.ts';

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
  readonly #api: CustomObjectsApi;
  /** uid → resourceVersion our last patch of that run produced (its watch echo is ours) */
  readonly #ownWrites = new BoundedCache<string>({ maxEntries: OWN_WRITES_REMEMBERED });

  constructor(options: { kubeConfig: KubeConfig }) {
    this.#api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** The latest object, or undefined when it no longer exists. */
  async get(key: RunKey): Promise<RunObject | undefined> {
    try {
      return (await this.#api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: key.namespace,
        plural: runPlural(key.kind),
        name: key.name,
      })) as RunObject;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
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
  ): Promise<void> {
    const metadata: Record<string, unknown> = { annotations };
    if (uid) metadata.uid = uid;
    try {
      const patched = (await this.#api.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: key.namespace,
          plural: runPlural(key.kind),
          name: key.name,
          body: { metadata },
          fieldManager: FIELD_MANAGER,
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as Partial<RunObject> | undefined;
      const md = patched?.metadata;
      if (md?.uid && md.resourceVersion) this.#ownWrites.set(md.uid, md.resourceVersion);
    } catch (err) {
      throw kubeError(`annotating ${describeRun(key)}`, err);
    }
  }

  /**
   * Whether this resourceVersion of the run is the one our own last patch produced: its watch
   * event (the echo) carries nothing the observer did not just write. Any later change by anyone
   * has another resourceVersion.
   */
  isOwnWrite(uid: string, resourceVersion: string): boolean {
    if (this.#ownWrites.get(uid) !== resourceVersion) return false;
    this.#ownWrites.delete(uid); // an echo comes once
    return true;
  }

  /** One page of runs of a kind (all namespaces, or one). */
  async list(
    kind: RunKey['kind'],
    options: { namespace?: string; limit: number; continueToken?: string },
  ): Promise<RunList> {
    const common = {
      group: GROUP,
      version: VERSION,
      plural: runPlural(kind),
      limit: options.limit,
      _continue: options.continueToken,
    };
    try {
      const res = (
        options.namespace
          ? await this.#api.listNamespacedCustomObject({ ...common, namespace: options.namespace })
          : await this.#api.listClusterCustomObject(common)
      ) as { items: RunObject[]; metadata: { resourceVersion: string; continue?: string } };
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

/** 409/429/5xx and network errors are retryable; other 4xx are not. */
export function kubeError(context: string, err: unknown): ObserverError {
  const code = err instanceof ApiException ? err.code : undefined;
  const retryable = code === undefined || code === 409 || code === 429 || code >= 500;
  const detail =
    err instanceof ApiException ? `HTTP ${err.code}: ${statusMessage(err.body)}` : (err as Error)?.message;
  return new ObserverError(`${context}: ${detail}`, { code: 'kube', retryable, cause: err });
}

function statusMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 200);
    } catch {
      return body.slice(0, 200);
    }
  }
  return (body as { message?: string })?.message ?? 'no details';
}
