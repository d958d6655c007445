import { constants, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf } from '../../../src/signing/index.ts';
import { derToRawEcdsa } from '../../../ui/src/verify/der.ts';
import { preAuthEncoding } from '../../../ui/src/verify/dsse.ts';
import type { PublishedKey } from '../../../ui/src/verify/public-key.ts';
import { matchSubjects } from '../../../ui/src/verify/subject-match.ts';
import { verifyEnvelope } from '../../../ui/src/verify/verify-envelope.ts';

// The page's verifier, run on Node's WebCrypto (the same API Chromium has), against signatures
// made by node:crypto the way the observer's signers make them.
const TYPE = 'application/vnd.in-toto+json';
const statement = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'r/app', digest: { sha256: 'a'.repeat(64) } }],
};
const payload = Buffer.from(JSON.stringify(statement));
const pae = Buffer.from(preAuthEncoding(TYPE, payload));

function published(key: KeyObject, algorithm: string): PublishedKey {
  const pub = createPublicKey(key);
  return {
    keyId: keyIdOf(pub),
    algorithm,
    publicKeyPem: pub.export({ format: 'pem', type: 'spki' }).toString(),
    active: true,
  };
}

function envelope(sig: Buffer, keyid: string, body = payload) {
  return JSON.stringify({
    payloadType: TYPE,
    payload: body.toString('base64'),
    signatures: [{ keyid, sig: sig.toString('base64') }],
  });
}

const cases: [string, () => { key: PublishedKey; sig: Buffer }][] = [
  [
    'ECDSA P-256 (DER)',
    () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return { key: published(privateKey, 'ecdsa-p256-sha256'), sig: sign('sha256', pae, privateKey) };
    },
  ],
  [
    'ECDSA P-384 (DER)',
    () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      return { key: published(privateKey, 'ecdsa-p384-sha384'), sig: sign('sha384', pae, privateKey) };
    },
  ],
  [
    'Ed25519',
    () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      return { key: published(privateKey, 'ed25519'), sig: sign(null, pae, privateKey) };
    },
  ],
  [
    'RSA PKCS#1 v1.5',
    () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return { key: published(privateKey, 'rsa-pkcs1v15-sha256'), sig: sign('sha256', pae, privateKey) };
    },
  ],
  [
    'RSA-PSS',
    () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return {
        key: published(privateKey, 'rsa-pss-sha256'),
        sig: sign('sha256', pae, {
          key: privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        }),
      };
    },
  ],
];

describe('verifyEnvelope (WebCrypto)', () => {
  for (const [name, make] of cases) {
    it(`${name}: verifies, names the key, and refuses one changed byte`, async () => {
      const { key, sig } = make();
      const good = await verifyEnvelope(envelope(sig, key.keyId), [key]);
      expect(good.verified).toBe(true);
      if (good.verified) expect(good.key.keyId).toBe(key.keyId);
      const tampered = Buffer.from(payload);
      tampered[10] ^= 1;
      const bad = await verifyEnvelope(envelope(sig, key.keyId, tampered), [key]);
      expect(bad).toMatchObject({ verified: false });
      if (!bad.verified) expect(bad.reason).toContain(`signature by ${key.keyId} does not verify`);
    });
  }

  it('refuses a key published under another key id, and a signature naming an unknown key', async () => {
    const [, make] = cases[0];
    const { key, sig } = make();
    const lying = { ...key, keyId: 'SHA256:someone-else' };
    expect((await verifyEnvelope(envelope(sig, 'SHA256:someone-else'), [lying])).verified).toBe(false);
    const unknown = await verifyEnvelope(envelope(sig, 'SHA256:nobody'), [key]);
    expect(unknown).toMatchObject({ verified: false });
    if (!unknown.verified) expect(unknown.reason).toContain('no published key has this key id');
  });

  it('says what is wrong with an envelope that is not one', async () => {
    expect(await verifyEnvelope('not json', [])).toMatchObject({
      verified: false,
      reason: 'the envelope is not JSON',
    });
    expect(await verifyEnvelope('{"payloadType":"x","payload":"","signatures":[]}', [])).toMatchObject({
      verified: false,
      reason: 'the envelope has no signatures',
    });
  });
});

describe('derToRawEcdsa', () => {
  it('pads short integers, strips sign bytes, and refuses trailing bytes', () => {
    const der = Buffer.from([0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x05]);
    const raw = derToRawEcdsa(der, 4);
    expect(raw && Buffer.from(raw).toString('hex')).toBe('0000008000000005');
    expect(derToRawEcdsa(Buffer.concat([der, Buffer.from([0])]), 4)).toBeUndefined();
    expect(derToRawEcdsa(Buffer.from([0x31, 0x00]), 4)).toBeUndefined();
  });
});

describe('matchSubjects', () => {
  const signed = [{ name: 'r/app', digest: { sha256: 'a'.repeat(64) } }];
  it('holds when every recorded digest and the asked one are in the signed statement', () => {
    expect(matchSubjects(signed, [{ name: 'r/app', digest: `sha256:${'a'.repeat(64)}` }]).ok).toBe(true);
  });
  it('fails for a digest the index lists but the statement does not name', () => {
    const m = matchSubjects(
      signed,
      [{ name: 'r/app', digest: `sha256:${'a'.repeat(64)}` }],
      `sha256:${'b'.repeat(64)}`,
    );
    expect(m.ok).toBe(false);
    expect(m.items.filter((i) => !i.inStatement).map((i) => i.digest)).toEqual([`sha256:${'b'.repeat(64)}`]);
  });
});
