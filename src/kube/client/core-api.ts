import type {
  ConfigMapObject,
  EventObject,
  NamespaceObject,
  PodObject,
  SecretObject,
  ServiceAccountObject,
} from './core-objects.ts';
import type { KubeConnection, KubeRequest } from './kube-connection.ts';
import { KubeJson, MERGE_PATCH } from './kube-json.ts';

/** `context`: the attempt a call is part of (its lane orders the rate limit's waiters) */
type Ctx = { context?: KubeRequest['context'] };
type Named = { name: string; namespace: string } & Ctx;

/**
 * The core/v1 calls the observer makes, as plain JSON requests; method names and arguments follow
 * client-node's CoreV1Api, which this replaced. Failures are KubeApiError (`code` = HTTP status)
 * or network errors, unwrapped: callers decide what a 404 means.
 */
export class CoreApi {
  readonly #json: KubeJson;

  constructor(connection: KubeConnection) {
    this.#json = new KubeJson(connection);
  }

  readNamespace({ name, context }: { name: string } & Ctx): Promise<NamespaceObject> {
    return this.#json.send('GET', `/api/v1/namespaces/${enc(name)}`, { context });
  }

  readNamespacedPod(at: Named): Promise<PodObject> {
    return this.#json.send('GET', namespaced(at, 'pods'), { context: at.context });
  }

  readNamespacedSecret(at: Named): Promise<SecretObject> {
    return this.#json.send('GET', namespaced(at, 'secrets'), { context: at.context });
  }

  /** A JSON merge patch of one Secret (RBAC: patch by resourceName). */
  patchNamespacedSecret(at: Named & { body: Partial<SecretObject> }): Promise<SecretObject> {
    return this.#json.send('PATCH', namespaced(at, 'secrets'), { body: at.body, contentType: MERGE_PATCH });
  }

  readNamespacedConfigMap(at: Named): Promise<ConfigMapObject> {
    return this.#json.send('GET', namespaced(at, 'configmaps'), { context: at.context });
  }

  /** A JSON merge patch of one ConfigMap (RBAC: patch by resourceName). */
  patchNamespacedConfigMap(at: Named & { body: Partial<ConfigMapObject> }): Promise<ConfigMapObject> {
    return this.#json.send('PATCH', namespaced(at, 'configmaps'), {
      body: at.body,
      contentType: MERGE_PATCH,
    });
  }

  readNamespacedServiceAccount(at: Named): Promise<ServiceAccountObject> {
    return this.#json.send('GET', namespaced(at, 'serviceaccounts'), { context: at.context });
  }

  createNamespacedEvent({
    namespace,
    body,
    context,
  }: { namespace: string; body: EventObject } & Ctx): Promise<EventObject> {
    return this.#json.send('POST', `/api/v1/namespaces/${enc(namespace)}/events`, { body, context });
  }

  /** A JSON merge patch of one Event. */
  patchNamespacedEvent(at: Named & { body: Partial<EventObject> }): Promise<EventObject> {
    return this.#json.send('PATCH', namespaced(at, 'events'), {
      body: at.body,
      contentType: MERGE_PATCH,
      context: at.context,
    });
  }
}

const enc = encodeURIComponent;

function namespaced({ namespace, name }: Named, plural: string): string {
  return `/api/v1/namespaces/${enc(namespace)}/${plural}/${enc(name)}`;
}
