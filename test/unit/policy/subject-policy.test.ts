import { describe, expect, it } from 'vitest';
import {
  compileRepositoryPattern,
  NAMESPACE_VAR as NS,
  parseSubjectPolicy,
} from '../../../src/policy/index.ts';

const POLICY = `
rules:
  - name: konflux-tenants
    namespaceSelector:
      matchLabels: {konflux-ci.dev/type: tenant}
      matchExpressions: [{key: frozen, operator: DoesNotExist}]
    repositories:
      - quay.io/redhat-user-workloads/\${namespace}/*
  - name: release
    namespaces: [release-team]
    repositories: ["quay.io/acme/**", "registry.local:5000/release"]
`;

describe('repository patterns', () => {
  const p = (s: string) => compileRepositoryPattern(s, 'test');
  it('are anchored: * stays inside one path component, ** crosses them', () => {
    expect(p('quay.io/org/*').matches('ns', 'quay.io/org/app')).toBe(true);
    expect(p('quay.io/org/*').matches('ns', 'quay.io/org/a/b')).toBe(false);
    expect(p('quay.io/org/*').matches('ns', 'evil.io/quay.io/org/app')).toBe(false);
    expect(p('quay.io/org/*').matches('ns', 'quay.io/org/app-x')).toBe(true);
    expect(p('quay.io/org/**').matches('ns', 'quay.io/org/a/b/c')).toBe(true);
    expect(p('quay.io/org/**').matches('ns', 'quay.io/org/')).toBe(false);
    expect(p('quay.io/org').matches('ns', 'quay.io/org2')).toBe(false);
  });
  it('insert the namespace variable literally: run data is never a regular expression', () => {
    const tpl = p(`quay.io/u/${NS}/*`);
    expect(tpl.matches('tenant-a', 'quay.io/u/tenant-a/app')).toBe(true);
    expect(tpl.matches('tenant-a', 'quay.io/u/tenant-b/app')).toBe(false);
    expect(tpl.matches('.*', 'quay.io/u/tenant-b/app')).toBe(false);
    expect(p('127.0.0.1:5000/x').matches('n', '127a0a0a1:5000/x')).toBe(false);
  });
  it('reject unknown variables, a wildcard host, regex syntax and upper case', () => {
    expect(() => p('quay.io/$' + '{name}/x')).toThrow(/unknown variable/);
    expect(() => p('*.io/x')).toThrow(/literal registry host/);
    expect(() => p('quay.io/(a|b)')).toThrow(/characters/);
    expect(() => p('quay.io/App')).toThrow(/characters/);
    expect(() => p('quay.io')).toThrow(/host followed by/);
  });
});

describe('parseSubjectPolicy', () => {
  const policy = parseSubjectPolicy(POLICY);
  const tenant = { 'konflux-ci.dev/type': 'tenant' };
  it('allows a labelled namespace its own repositories, naming the rule', () => {
    expect(policy.needsLabels).toBe(true);
    expect(policy.allowed('tenant-a', tenant, 'quay.io/redhat-user-workloads/tenant-a/app')).toEqual({
      allowed: true,
      rule: 'konflux-tenants',
    });
  });
  it("refuses another namespace's repository, naming the rule and its patterns", () => {
    const d = policy.allowed('tenant-a', tenant, 'quay.io/redhat-user-workloads/tenant-b/app');
    expect(d.allowed).toBe(false);
    expect(d.rule).toContain(`konflux-tenants (quay.io/redhat-user-workloads/${NS}/*)`);
  });
  it('applies selectors as Kubernetes does, and exact names', () => {
    expect(
      policy.allowed('tenant-a', { ...tenant, frozen: '' }, 'quay.io/redhat-user-workloads/tenant-a/app')
        .allowed,
    ).toBe(false);
    expect(policy.allowed('release-team', {}, 'quay.io/acme/x/y').allowed).toBe(true);
    expect(policy.allowed('release-team', {}, 'registry.local:5000/release').allowed).toBe(true);
    expect(policy.allowed('other', {}, 'quay.io/acme/x')).toEqual({
      allowed: false,
      rule: 'no rule applies to namespace other',
    });
  });
  it('unset: everything is allowed (Chains), flagged as not configured', () => {
    const unset = parseSubjectPolicy('  ');
    expect(unset.configured).toBe(false);
    expect(unset.allowed('x', {}, 'any.io/repo')).toEqual({ allowed: true, rule: 'unset' });
  });
  it.each([
    ['rules: x', /expected a map with one field/],
    ['rules: []\nextra: 1', /expected a map with one field/],
    ['rules: [{name: a, repositories: [q.io/x]}]', /needs namespaces or a namespaceSelector/],
    ['rules: [{name: a, namespaces: [n], repositories: []}]', /non-empty list/],
    ['rules: [{name: a, namespaces: [n], repositories: [q.io/x], typo: 1}]', /unknown field\(s\) typo/],
    [
      'rules: [{name: a, namespaceSelector: {matchExpressions: [{key: k, operator: Gt}]}, repositories: [q.io/x]}]',
      /operator/,
    ],
    [
      'rules: [{name: a, namespaces: [n], repositories: [q.io/x]}, {name: a, namespaces: [m], repositories: [q.io/y]}]',
      /used twice/,
    ],
    ['rules: [', /not valid YAML/],
  ])('rejects %s', (text, message) => {
    expect(() => parseSubjectPolicy(text)).toThrow(message);
    expect(() => parseSubjectPolicy(text)).toThrow(/attestation\.subject-policy/);
  });
  it('uris: patterns for subjects that are not images; a rule may have only uris', () => {
    const policy = parseSubjectPolicy(
      `rules: [{name: pkgs, namespaces: [a], uris: ["pkg:npm/${NS}/*", "https://dl.acme.com/**"]}, {name: imgs, namespaces: [a], repositories: [quay.io/a/*]}]`,
    );
    expect(policy.allowedUri('a', {}, 'pkg:npm/a/x')).toEqual({ allowed: true, rule: 'pkgs' });
    expect(policy.allowedUri('a', {}, 'pkg:npm/b/x').allowed).toBe(false);
    expect(policy.allowedUri('a', {}, 'https://dl.acme.com/x/y.tgz').allowed).toBe(true);
    expect(policy.allowedUri('a', {}, 'quay.io/a/x').allowed).toBe(false);
    expect(policy.allowed('a', {}, 'quay.io/a/x')).toEqual({ allowed: true, rule: 'imgs' });
    expect(policy.allowed('a', {}, 'pkg:npm/a/x').allowed).toBe(false);
    expect(() => parseSubjectPolicy('rules: [{name: x, namespaces: [a]}]')).toThrow(
      /needs repositories or uris/,
    );
    expect(() => parseSubjectPolicy('rules: [{name: x, namespaces: [a], uris: ["* x"]}]')).toThrow(
      /uris|pattern/,
    );
  });
});
