import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
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
const VERSION = 'v1';
/** The field manager of every write the observer makes (Chains uses `tekton-chains-controller`). */
export const FIELD_MANAGER = 'provenance-observer';

/** Thin client for tekton.dev/v1 runs. Errors are ObserverError('kube'), naming the run. */
export class RunApi {
  readonly #api: CustomObjectsApi;

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
      await this.#api.patchNamespacedCustomObject(
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
      );
    } catch (err) {
      throw kubeError(`annotating ${describeRun(key)}`, err);
    }
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
      await this.#api.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: key.namespace,
          plural: runPlural(key.kind),
          name: key.name,
          body: { metadata: { resourceVersion, finalizers } },
          fieldManager: FIELD_MANAGER,
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return 'ok';
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) return 'conflict';
      if (err instanceof ApiException && err.code === 404) return 'gone';
      throw kubeError(`setting finalizers of ${describeRun(key)}`, err);
    }
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

/** Whether `err` says the run is gone (HTTP 404), e.g. a patch of a run deleted since it was captured. */
export function isNotFound(err: unknown): boolean {
  const cause = err instanceof ObserverError ? err.cause : err;
  return cause instanceof ApiException && cause.code === 404;
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
