import type { KubeMethod, KubeRequest } from './kube-connection.ts';

/**
 * What an apiserver request does, for counting (kube_requests_total): the verb as the apiserver's
 * audit log names it (get, list, watch, create, patch, update, delete) and the resource with its
 * subresource (`taskruns`, `pods`, `events`, `leases`, `taskruns/status`). Names of namespaces
 * and objects are dropped, so label values stay a handful.
 */
export function kubeRequestKind(
  method: KubeMethod,
  path: string,
  query: KubeRequest['query'] = {},
): { verb: string; resource: string } {
  let parts = path.split('/').filter(Boolean);
  // /api/v1/… or /apis/<group>/<version>/…
  parts = parts.slice(parts[0] === 'api' ? 2 : 3);
  if (parts[0] === 'namespaces' && parts.length > 2) parts = parts.slice(2);
  const [resource = 'unknown', name, sub] = parts;
  const collection = name === undefined;
  const verb =
    method === 'GET'
      ? query.watch === true || query.watch === 'true' || query.watch === 1
        ? 'watch'
        : collection
          ? 'list'
          : 'get'
      : VERBS[method];
  return { verb, resource: sub ? `${resource}/${sub}` : resource };
}

const VERBS: Record<KubeMethod, string> = {
  GET: 'get',
  POST: 'create',
  PATCH: 'patch',
  PUT: 'update',
  DELETE: 'delete',
};
