import { describe, expect, it } from 'vitest';
import { credentialChoice, parseSubjectPolicy, UNSET_SUBJECT_POLICY } from '../../../src/policy/index.ts';

const policy = parseSubjectPolicy(`
rules:
  - name: tenants
    namespaces: [tenant-a]
    repositories: ["reg.io/\${namespace}/**"]
`);
const base = { namespace: 'tenant-a', labels: {} };

describe('credentialChoice', () => {
  it("gives the observer's credentials only for repositories the policy allows the namespace", () => {
    expect(credentialChoice({ ...base, policy, repository: 'reg.io/tenant-a/app' }).owners).toEqual([
      'namespace',
      'observer',
    ]);
    const denied = credentialChoice({ ...base, policy, repository: 'reg.io/tenant-b/app' });
    expect(denied.owners).toEqual(['namespace']);
    expect(denied.reason).toContain('not allowed');
  });
  it("without a policy, the observer's credentials serve storage.oci.repository only", () => {
    const p = { ...base, policy: UNSET_SUBJECT_POLICY, platformRepository: 'reg.io/platform/att' };
    expect(credentialChoice({ ...p, repository: 'reg.io/platform/att' }).owners).toEqual([
      'namespace',
      'observer',
    ]);
    expect(credentialChoice({ ...p, repository: 'reg.io/tenant-a/app' }).owners).toEqual(['namespace']);
    expect(credentialChoice({ ...p, repository: 'reg.io/platform/att/sub' }).owners).toEqual(['namespace']);
  });
  it('an unknown repository never gets them', () => {
    expect(credentialChoice({ ...base, policy, repository: undefined }).owners).toEqual(['namespace']);
  });
});
