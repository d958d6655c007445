import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPolicyStatement } from '../../../src/attest/index.ts';
import { PolicyStatementPublisher } from '../../../src/cli/compose/policy-statement.ts';
import {
  buildPolicyStatement,
  INTOTO_PAYLOAD_TYPE,
  POLICY_STATEMENT_PREDICATE_TYPE,
} from '../../../src/formats/index.ts';
import { NAMESPACE_VAR, parseSubjectPolicy, UNSET_SUBJECT_POLICY } from '../../../src/policy/index.ts';
import { KeySigner } from '../../../src/signing/index.ts';
import { checkPolicyStatement } from '../../../src/verify/index.ts';

const POLICY = `rules:
  - name: tenant-a
    namespaces: [tenant-a]
    repositories: ["reg.io/\${namespace}/**"]
    uris: ["pkg:npm/@a/*"]
  - name: labelled
    namespaceSelector: {matchLabels: {team: x}}
    repositories: [reg.io/labelled/**]
`;
const policy = parseSubjectPolicy(POLICY);
const key = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    signer: new KeySigner({ privateKey, algorithm: 'ecdsa-p256-sha256' }),
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
})();
const other = new KeySigner({
  privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  algorithm: 'ecdsa-p256-sha256',
});
const T0 = new Date('2026-12-01T00:00:00Z');

async function statement(p = policy, issuedAt = T0, signer = key.signer) {
  const signed = await signPolicyStatement(
    buildPolicyStatement(p, { issuedAt, validitySeconds: 3600 }),
    signer,
  );
  return Buffer.from(signed.envelopeBytes);
}

function provenance(namespace: string | undefined, subjects: [string, string][], v02 = false) {
  const identity = namespace === undefined ? {} : { namespace };
  const predicate = v02
    ? { invocation: { environment: identity } }
    : { buildDefinition: { internalParameters: identity } };
  const s = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects.map(([name, hex]) => ({ name, digest: { sha256: hex } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate,
  };
  const payload = Buffer.from(JSON.stringify(s)).toString('base64');
  return JSON.stringify({ payloadType: INTOTO_PAYLOAD_TYPE, payload, signatures: [{ sig: '' }] });
}

const D = 'a'.repeat(64);
const failed = (checks: { ok: boolean; name: string; detail?: string }[]) =>
  checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

describe('the subject policy statement', () => {
  it('is an in-toto v1 statement of the rules as written, versioned by content', () => {
    const { statement, payload } = buildPolicyStatement(policy, { issuedAt: T0, validitySeconds: 60 });
    expect(statement.predicateType).toBe(POLICY_STATEMENT_PREDICATE_TYPE);
    expect(statement.predicate.rules[0]).toEqual({
      name: 'tenant-a',
      namespaces: ['tenant-a'],
      repositories: [`reg.io/${NAMESPACE_VAR}/**`],
      uris: ['pkg:npm/@a/*'],
    });
    expect(statement.predicate.validUntil).toBe('2026-12-01T00:01:00.000Z');
    expect(statement.subject[0]?.digest?.sha256).toBe(statement.predicate.version.slice(7));
    const again = buildPolicyStatement(parseSubjectPolicy(POLICY), { issuedAt: T0, validitySeconds: 60 });
    expect(Buffer.from(again.payload).equals(Buffer.from(payload))).toBe(true);
    expect(
      buildPolicyStatement(UNSET_SUBJECT_POLICY, { issuedAt: T0, validitySeconds: 60 }).statement.predicate,
    ).toMatchObject({ unrestricted: true, rules: [] });
  });

  it('verify: an allowed namespace passes, v1.0 and v0.2, images and URIs', async () => {
    const s = await statement();
    const now = new Date(T0.getTime() + 60_000);
    for (const v02 of [false, true]) {
      const checks = checkPolicyStatement({
        statementEnvelope: s,
        provenanceEnvelope: provenance(
          'tenant-a',
          [
            ['reg.io/tenant-a/app', D],
            ['pkg:npm/@a/lib', D],
          ],
          v02,
        ),
        publicKeyPem: key.pem,
        now,
      });
      expect(failed(checks)).toEqual([]);
      expect(checks.map((c) => c.name)).toContain(
        'subject reg.io/tenant-a/app allowed for namespace tenant-a',
      );
    }
  });

  it('verify refuses, naming subject and namespace: another tenant, a label-only rule, no namespace', async () => {
    const s = await statement();
    const at = (p: string) =>
      failed(
        checkPolicyStatement({ statementEnvelope: s, provenanceEnvelope: p, publicKeyPem: key.pem, now: T0 }),
      );
    expect(at(provenance('tenant-b', [['reg.io/tenant-a/app', D]]))).toEqual([
      expect.stringMatching(
        /^subject reg\.io\/tenant-a\/app allowed for namespace tenant-b: namespace tenant-b may not claim reg\.io\/tenant-a\/app under policy sha256:[0-9a-f]{64} \(no rule applies to namespace tenant-b; rules selecting namespaces by label \(labelled\) cannot be checked offline\)$/,
      ),
    ]);
    expect(at(provenance('tenant-a', [['reg.io/tenant-b/app', D]]))[0]).toMatch(
      /tenant-a may not claim reg.io\/tenant-b\/app/,
    );
    expect(at(provenance(undefined, [['reg.io/tenant-a/app', D]]))[0]).toMatch(/records no namespace/);
    expect(at(provenance('tenant-a', []))).toEqual(['provenance subjects: the provenance names no subject']);
  });

  it('verify refuses an expired or not yet valid statement, another key, a tampered version', async () => {
    const p = provenance('tenant-a', [['reg.io/tenant-a/app', D]]);
    const run = (s: Buffer, now = T0) =>
      failed(
        checkPolicyStatement({ statementEnvelope: s, provenanceEnvelope: p, publicKeyPem: key.pem, now }),
      );
    expect(run(await statement(), new Date(T0.getTime() + 3600_000))).toEqual([
      'policy statement validity: expired at 2026-12-01T01:00:00.000Z (now 2026-12-01T01:00:00.000Z)',
    ]);
    expect(run(await statement(), new Date(T0.getTime() - 1))[0]).toMatch(/not valid before/);
    expect(run(await statement(policy, T0, other))[0]).toMatch(
      /^policy statement signature: no signature verifies/,
    );
    const env = JSON.parse((await statement()).toString());
    const body = JSON.parse(Buffer.from(env.payload, 'base64').toString());
    body.predicate.rules[0].namespaces.push('tenant-b');
    env.payload = Buffer.from(JSON.stringify(body)).toString('base64');
    expect(run(Buffer.from(JSON.stringify(env)))).toEqual([
      expect.stringMatching(/^policy statement signature: no signature/),
      expect.stringMatching(/^policy statement: version sha256:\w+ is not the digest of its rules$/),
    ]);
  });

  it('an unrestricted statement allows any subject and says so', async () => {
    const checks = checkPolicyStatement({
      statementEnvelope: await statement(UNSET_SUBJECT_POLICY),
      provenanceEnvelope: provenance('x', [['evil.io/y', D]]),
      publicKeyPem: key.pem,
      now: T0,
    });
    expect(failed(checks)).toEqual([]);
    expect(checks.at(-1)?.detail).toMatch(/unrestricted/);
  });
});

describe('PolicyStatementPublisher', () => {
  it('signs once, again at half the validity, on a new key or validity, and publishes each', async () => {
    let now = T0.getTime();
    let signer = key.signer;
    const config = { subjectPolicy: policy, policyStatementValiditySeconds: 3600 };
    const published: string[] = [];
    const publisher = new PolicyStatementPublisher({
      config,
      signer: () => signer,
      clock: () => now,
      configMap: { publish: async (t) => published.push(t) > 0, describe: () => 'ns/cm' },
    });
    expect(publisher.current()).toBeUndefined();
    expect(await publisher.refresh()).toBe(true);
    expect(await publisher.refresh()).toBe(false);
    now += 1_799_000;
    expect(await publisher.refresh()).toBe(false);
    now += 1_000;
    expect(await publisher.refresh()).toBe(true);
    signer = other;
    expect(await publisher.refresh()).toBe(true);
    config.policyStatementValiditySeconds = 600;
    expect(await publisher.refresh()).toBe(true);
    expect(published.at(-1)).toBe(publisher.current());
    const body = JSON.parse(Buffer.from(JSON.parse(publisher.current() ?? '').payload, 'base64').toString());
    expect(body.predicate.validUntil).toBe(new Date(now + 600_000).toISOString());
  });

  it('fails clearly without a key', async () => {
    const publisher = new PolicyStatementPublisher({
      config: { subjectPolicy: policy, policyStatementValiditySeconds: 3600 },
      signer: () => undefined,
      clock: Date.now,
    });
    await expect(publisher.refresh()).rejects.toThrow(/no signing key is loaded/);
  });
});
