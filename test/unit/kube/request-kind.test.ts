import { describe, expect, it } from 'vitest';
import { kubeRequestKind } from '../../../src/kube/index.ts';

describe('kubeRequestKind', () => {
  it.each([
    ['GET', '/apis/tekton.dev/v1/namespaces/team-a/taskruns/build-1', {}, 'get', 'taskruns'],
    ['GET', '/apis/tekton.dev/v1/namespaces/team-a/taskruns', {}, 'list', 'taskruns'],
    ['GET', '/apis/tekton.dev/v1/taskruns', { limit: 500 }, 'list', 'taskruns'],
    ['GET', '/apis/tekton.dev/v1/taskruns', { watch: 'true' }, 'watch', 'taskruns'],
    ['PATCH', '/apis/tekton.dev/v1/namespaces/team-a/pipelineruns/p', {}, 'patch', 'pipelineruns'],
    ['GET', '/api/v1/namespaces/team-a/pods/build-1-pod', {}, 'get', 'pods'],
    ['POST', '/api/v1/namespaces/team-a/events', {}, 'create', 'events'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/obs/leases/l', {}, 'update', 'leases'],
    ['GET', '/api/v1/namespaces/team-a', {}, 'get', 'namespaces'],
    ['PATCH', '/apis/tekton.dev/v1/namespaces/team-a/taskruns/t/status', {}, 'patch', 'taskruns/status'],
    ['POST', '/apis/authentication.k8s.io/v1/tokenreviews', {}, 'create', 'tokenreviews'],
  ] as const)('%s %s → %s %s', (method, path, query, verb, resource) => {
    expect(kubeRequestKind(method, path, query)).toEqual({ verb, resource });
  });
});
