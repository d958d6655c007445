import type {
  EventObject,
  NamespaceObject,
  PodObject,
  SecretObject,
  ServiceAccountObject,
} from './core-objects.ts';
import type { KubeConnection } from './kube-connection.ts';
import { KubeJson, MERGE_PATCH } from './kube-json.ts';

type Named = { name: string; namespace: string };

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

  readNamespace({ name }: { name: string }): Promise<NamespaceObject> {
    return this.#json.send('GET', `/api/v1/namespaces/${enc(name)}`);
  }

  readNamespacedPod(at: Named): Promise<PodObject> {
    return this.#json.send('GET', namespaced(at, 'pods'));
  }

  readNamespacedSecret(at: Named): Promise<SecretObject> {
    return this.#json.send('GET', namespaced(at, 'secrets'));
  }

  /** A JSON merge patch of one Secret (RBAC: patch by resourceName). */
  patchNamespacedSecret(at: Named & { body: Partial<SecretObject> }): Promise<SecretObject> {
    return this.#json.send('PATCH', namespaced(at, 'secrets'), { body: at.body, contentType: MERGE_PATCH });
  }

  readNamespacedServiceAccount(at: Named): Promise<ServiceAccountObject> {
    return this.#json.send('GET', namespaced(at, 'serviceaccounts'));
  }

  createNamespacedEvent({ namespace, body }: { namespace: string; body: EventObject }): Promise<EventObject> {
    return this.#json.send('POST', `/api/v1/namespaces/${enc(namespace)}/events`, { body });
  }

  /** A JSON merge patch of one Event. */
  patchNamespacedEvent(at: Named & { body: Partial<EventObject> }): Promise<EventObject> {
    return this.#json.send('PATCH', namespaced(at, 'events'), { body: at.body, contentType: MERGE_PATCH });
  }
}

const enc = encodeURIComponent;

function namespaced({ namespace, name }: Named, plural: string): string {
  return `/api/v1/namespaces/${enc(namespace)}/${plural}/${enc(name)}`;
}
