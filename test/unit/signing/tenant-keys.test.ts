import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { ObserverError } from '../../../src/errors.ts';
import {
  KeySigner,
  NO_TENANT_KEYS,
  parseTenantKeyRules,
  type SigningConfig,
  signEnvelopeBy,
  TenantKeys,
  tenantOf,
} from '../../../src/signing/index.ts';
import { verifyEnvelope } from '../../../src/verify/index.ts';

const YAML = `tenants:
  - name: team-a
    namespaces: [a1, a2]
    secret: team-a-signing
    publicKeySecret: public-key-team-a
  - name: team-b
    namespaceSelector: {matchLabels: {tenant: b}}
    secret: team-b-signing
  - name: team-c
    namespaceSelector: {matchLabels: {tier: shared}}
    secret: team-c-signing
`;

const config: SigningConfig = {
  signingSecret: { namespace: 'provenance-observer', name: 'signing-secrets' },
  fulcio: { enabled: false, address: 'https://fulcio.example', issuer: 'https://issuer.example' },
  kms: { sessions: 0 },
  workers: 2,
  backlogWorkers: 1,
  transparency: { mode: 'off', url: 'https://rekor.example' },
};

const pem = (k: ReturnType<typeof generateKeyPairSync>) => ({
  'x509.pem': Buffer.from(k.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string),
});
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('signing.tenant-keys: parsing', () => {
  it('parses names, selectors, the Secret and the public-key Secret; "" is no tenant keys', () => {
    const rules = parseTenantKeyRules(YAML);
    expect(rules.needsLabels).toBe(true);
    expect(rules.rules.map((r) => [r.name, r.namespaces, r.key, r.publicKeySecret])).toEqual([
      ['team-a', ['a1', 'a2'], { secret: 'team-a-signing' }, 'public-key-team-a'],
      ['team-b', [], { secret: 'team-b-signing' }, undefined],
      ['team-c', [], { secret: 'team-c-signing' }, undefined],
    ]);
    expect(parseTenantKeyRules('  ')).toBe(NO_TENANT_KEYS);
  });

  it('accepts a pkcs11: key instead of a Secret', () => {
    const rules = parseTenantKeyRules(`tenants:
  - name: hsm
    namespaces: [x]
    kmsref: "pkcs11:token=t;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/pin"
`);
    const key = rules.rules[0]?.key;
    expect(key && 'kmsref' in key && key.kmsref.modulePath).toBe('/usr/lib/softhsm/libsofthsm2.so');
  });

  it.each([
    ['not YAML', 'tenants: [', /not valid YAML/],
    ['no tenants list', 'rules: []', /one field, tenants/],
    ['a bad name', 'tenants: [{name: "Team A", namespaces: [a], secret: s}]', /name must be/],
    ['no namespaces', 'tenants: [{name: a, secret: s}]', /needs namespaces or a namespaceSelector/],
    [
      'both key kinds',
      'tenants: [{name: a, namespaces: [a], secret: s, kmsref: "pkcs11:x"}]',
      /exactly one of/,
    ],
    ['no key', 'tenants: [{name: a, namespaces: [a]}]', /exactly one of/],
    ['a cloud KMS ref', 'tenants: [{name: a, namespaces: [a], kmsref: "awskms://k"}]', /kmsref/],
    ['an unknown field', 'tenants: [{name: a, namespaces: [a], secret: s, key: k}]', /unknown field/],
    ['a bad Secret name', 'tenants: [{name: a, namespaces: [a], secret: "../x"}]', /must be a Secret name/],
    [
      'one name twice',
      'tenants: [{name: a, namespaces: [a], secret: s}, {name: a, namespaces: [b], secret: t}]',
      /used twice/,
    ],
    [
      'one namespace claimed by two tenants',
      'tenants: [{name: a, namespaces: [x], secret: s}, {name: b, namespaces: [x], secret: t}]',
      /namespace x is listed by tenants a and b/,
    ],
  ])('refuses %s (config_invalid, naming the key)', (_what, text, message) => {
    let error: unknown;
    try {
      parseTenantKeyRules(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ObserverError);
    expect((error as ObserverError).code).toBe('config_invalid');
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('signing.tenant-keys');
  });
});

describe('tenantOf: which tenant key signs for a namespace', () => {
  const rules = parseTenantKeyRules(YAML);
  it('a listed name first, then the one matching selector; none = platform key only', () => {
    expect(tenantOf(rules, 'a1', { tenant: 'b' })?.name).toBe('team-a');
    expect(tenantOf(rules, 'other', { tenant: 'b' })?.name).toBe('team-b');
    expect(tenantOf(rules, 'other', { tenant: 'x' })).toBeUndefined();
  });
  it('two matching selectors are refused (retryable key_unavailable), never decided by order', () => {
    expect(() => tenantOf(rules, 'both', { tenant: 'b', tier: 'shared' })).toThrow(
      /matches the namespaceSelector of tenant keys team-b and team-c/,
    );
  });
});

describe('TenantKeys: one key source per tenant', () => {
  it("signs a namespace with its tenant's key; a tenant without a key fails, it does not fall back", async () => {
    const keys = new TenantKeys(parseTenantKeyRules(YAML), config);
    expect(keys.signerFor('nobody', {})).toBeUndefined();
    expect(() => keys.signerFor('a1', {})).toThrow(/no signing key for tenant team-a \(namespace a1\)/);
    const a = p256();
    await keys.get('team-a')?.source.reload(pem(a));
    const signer = keys.signerFor('a2', {});
    expect(signer?.tenant).toBe('team-a');
    expect(signer?.signer.publicKeyPem).toBe(a.publicKey.export({ format: 'pem', type: 'spki' }));
    expect(keys.get('team-a')?.secret).toEqual({ namespace: 'provenance-observer', name: 'team-a-signing' });
    // another tenant's Secret is untouched by team-a's reload
    expect(() => keys.signerFor('b', { tenant: 'b' })).toThrow(/team-b/);
    expect(keys.publicKeysFor('b', { tenant: 'b' })).toEqual([]);
    expect(keys.publicKeysFor('a1', {}).map((k) => k.keyId)).toEqual([signer?.signer.keyId]);
  });
});

describe('signEnvelopeBy: one envelope, a signature per key', () => {
  it('signs the same PAE with each key, in order, each signature with its keyid', async () => {
    const [p, t, other] = [p256(), p256(), p256()];
    const platform = new KeySigner({ privateKey: p.privateKey, algorithm: 'ecdsa-p256-sha256' });
    const tenant = new KeySigner({ privateKey: t.privateKey, algorithm: 'ecdsa-p256-sha256' });
    const signed = await signEnvelopeBy(Buffer.from('{"a":1}'), 'application/vnd.in-toto+json', [
      platform,
      tenant,
    ]);
    expect(signed.envelope.signatures.map((s) => s.keyid)).toEqual([platform.keyId, tenant.keyId]);
    expect(JSON.parse(Buffer.from(signed.envelopeBytes).toString())).toEqual(signed.envelope);
    expect(verifyEnvelope(signed.envelope, p.publicKey)).toEqual({ ok: true, keyId: platform.keyId });
    expect(verifyEnvelope(signed.envelope, t.publicKey)).toEqual({ ok: true, keyId: tenant.keyId });
    expect(verifyEnvelope(signed.envelope, other.publicKey).ok).toBe(false);
    await expect(signEnvelopeBy(Buffer.from('x'), 't', [])).rejects.toThrow(/no signer/);
  });
});

describe('signing.tenant-keys beside other keys', () => {
  const tenants = 'tenants: [{name: a, namespaces: [a], secret: s}]';
  it('is refused with keyless signing and with a transparency log, naming why', () => {
    expect(() =>
      parseConfig({ 'signing.tenant-keys': tenants, 'signers.x509.fulcio.enabled': 'true' }),
    ).toThrow(/signing.tenant-keys" needs a platform key/);
    expect(() => parseConfig({ 'signing.tenant-keys': tenants, 'transparency.enabled': 'manual' })).toThrow(
      /not supported with transparency.enabled/,
    );
    expect(parseConfig({ 'signing.tenant-keys': tenants }).tenantKeys.rules).toHaveLength(1);
  });
});
