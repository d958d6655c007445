import { describe, expect, it } from 'vitest';
import { parseSubjectPolicy, UNSET_SUBJECT_POLICY } from '../../../src/policy/index.ts';
import { type CredentialSource, PolicyGatedCredentials } from '../../../src/storage/index.ts';
import type { RunRef } from '../../../src/tekton/run-ref.ts';

const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'b',
  uid: 'u',
  serviceAccountName: 'pipeline',
};
const observer = {
  credentialsFor: async () => ({ kind: 'basic', username: 'observer', password: 'o' }),
} satisfies CredentialSource;
const none = { credentialsFor: async () => undefined } satisfies CredentialSource;
const tenant = {
  credentialsFor: async () => ({ kind: 'basic', username: 'tenant', password: 't' }),
} satisfies CredentialSource;
const policy = parseSubjectPolicy(`
rules:
  - name: by-label
    namespaceSelector: {matchLabels: {team: a}}
    repositories: ["reg.io/\${namespace}/*"]
`);

describe('PolicyGatedCredentials', () => {
  it("uses the namespace's credentials first, wherever the request goes", async () => {
    const gated = new PolicyGatedCredentials({ namespace: tenant, observer, policy: UNSET_SUBJECT_POLICY });
    expect(await gated.credentialsFor(run, 'reg.io', 'reg.io/tenant-b/x')).toMatchObject({
      username: 'tenant',
    });
  });
  it("with no policy, the observer's own credentials serve storage.oci.repository only", async () => {
    const gated = new PolicyGatedCredentials({
      namespace: none,
      observer,
      policy: UNSET_SUBJECT_POLICY,
      platformRepository: 'reg.io/platform/att',
    });
    expect(await gated.credentialsFor(run, 'reg.io', 'reg.io/platform/att')).toMatchObject({
      username: 'observer',
    });
    expect(await gated.credentialsFor(run, 'reg.io', 'reg.io/tenant-a/x')).toBeUndefined();
    expect(await gated.credentialsFor(run, 'reg.io')).toBeUndefined();
  });
  it('with a policy, for the repositories it allows the namespace (labels read only then)', async () => {
    const asked: string[] = [];
    const gated = new PolicyGatedCredentials({
      namespace: none,
      observer,
      policy,
      namespaceLabels: async (ns) => {
        asked.push(ns);
        return ns === 'tenant-a' ? { team: 'a' } : ({} as Record<string, string>);
      },
    });
    expect(await gated.credentialsFor(run, 'reg.io', 'reg.io/tenant-a/x')).toMatchObject({
      username: 'observer',
    });
    expect(await gated.credentialsFor(run, 'reg.io', 'reg.io/tenant-b/x')).toBeUndefined();
    expect(
      await gated.credentialsFor({ ...run, namespace: 'tenant-b' }, 'reg.io', 'reg.io/tenant-b/x'),
    ).toBeUndefined();
    expect(asked).toEqual(['tenant-a', 'tenant-a', 'tenant-b']);
  });
});
