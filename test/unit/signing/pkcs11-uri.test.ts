import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { ecdsaRawToDer, parsePkcs11Uri } from '../../../src/signing/index.ts';

const MODULE = 'module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/var/run/pkcs11/pin';

describe('parsePkcs11Uri (RFC 7512)', () => {
  it('reads the token, the key by label and percent-encoded id, the module and the PIN file', () => {
    const uri = parsePkcs11Uri(
      `pkcs11:token=my%20token;object=signing-p256;id=%01%ff;type=private?${MODULE}`,
    );
    expect(uri).toMatchObject({
      token: 'my token',
      object: 'signing-p256',
      id: '01ff',
      modulePath: '/usr/lib/softhsm/libsofthsm2.so',
      pinFile: '/var/run/pkcs11/pin',
      rsaScheme: 'pkcs1v15',
    });
    expect(parsePkcs11Uri(`pkcs11:object=k?${MODULE}&x-rsa-scheme=pss`).rsaScheme).toBe('pss');
  });

  it('refuses what it cannot use, naming the attribute', () => {
    expect(() => parsePkcs11Uri(`pkcs11:token=t?${MODULE}`)).toThrow(/name the key/);
    expect(() => parsePkcs11Uri('pkcs11:object=k?pin-source=file:/p')).toThrow(/module-path/);
    expect(() => parsePkcs11Uri('pkcs11:object=k?module-path=/m.so')).toThrow(/pin-source/);
    expect(() => parsePkcs11Uri(`pkcs11:object=k?${MODULE}&pin-value=1234`)).toThrow(/pin-value is refused/);
    expect(() => parsePkcs11Uri(`pkcs11:object=k;type=public?${MODULE}`)).toThrow(/type must be private/);
    expect(() => parsePkcs11Uri(`pkcs11:object=k;colour=red?${MODULE}`)).toThrow(
      /unknown path attribute colour/,
    );
    expect(() => parsePkcs11Uri(`pkcs11:object=%zz?${MODULE}`)).toThrow(/percent-encoding/);
  });
});

describe('signers.kms.kmsref', () => {
  it('takes a pkcs11: URI for the kms signer, and the kms signer needs it', () => {
    const config = parseConfig({
      'signers.kms.kmsref': `pkcs11:token=t;object=k?${MODULE}`,
      'artifacts.taskrun.signer': 'kms',
      'artifacts.pipelinerun.signer': 'kms',
      'artifacts.oci.signer': 'none',
    });
    expect(config.kms.ref?.object).toBe('k');
    expect(() => parseConfig({ 'artifacts.oci.signer': 'kms' })).toThrow(/kmsref is not set/);
    expect(() => parseConfig({ 'signers.kms.kmsref': `pkcs11:object=k?${MODULE}` })).toThrow(
      /artifacts.taskrun.signer" is x509 while signers.kms.kmsref is set/,
    );
  });

  it("refuses Chains' cloud KMS schemes, naming their vendor's PKCS#11 route", () => {
    const cases: [string, RegExp][] = [
      ['awskms:///arn:aws:kms:eu-west-1:1:key/k', /CloudHSM/],
      ['gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k', /libkmsp11/],
      ['azurekms://vault.vault.azure.net/k', /Azure/],
      ['hashivault://transit-key', /libvault-pkcs11/],
    ];
    for (const [ref, route] of cases) {
      expect(() => parseConfig({ 'signers.kms.kmsref': ref })).toThrow(route);
      expect(() => parseConfig({ 'signers.kms.kmsref': ref })).toThrow(/pkcs11: URI/);
    }
  });
});

describe('ecdsaRawToDer', () => {
  it('turns the r‖s a token returns into the DER openssl verifies', () => {
    for (const namedCurve of ['P-256', 'P-384']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      for (let i = 0; i < 20; i++) {
        const data = Buffer.from(`message ${i}`);
        const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        expect(verify('sha256', data, publicKey, ecdsaRawToDer(raw))).toBe(true);
      }
    }
  });
});
