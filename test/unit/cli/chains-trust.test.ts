import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainsTrustSource } from '../../../src/cli/compose/chains-trust.ts';
import { parseConfig } from '../../../src/config/index.ts';
import type { KubeConnection } from '../../../src/kube/index.ts';
import { silentLogger } from '../fakes.ts';

const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ format: 'pem', type: 'spki' })
    .toString();
const noKube = {} as KubeConnection;

describe("Chains' public keys for adoption", () => {
  const dir = mkdtempSync(join(tmpdir(), 'chains-trust-'));

  it('is off without keys configured', () => {
    expect(chainsTrustSource(parseConfig({}), noKube, silentLogger())).toBeUndefined();
  });

  it('reads every PEM block of every file, with the cut-over', async () => {
    const [a, b] = [pem(), pem()];
    writeFileSync(join(dir, 'two.pub'), `${a}${b}`);
    const source = chainsTrustSource(
      parseConfig({
        'adoption.chains-public-key-files': join(dir, 'two.pub'),
        'adoption.cut-over': '2026-12-01T00:00:00Z',
      }),
      noKube,
      silentLogger(),
    );
    const trust = await source?.();
    expect(trust?.publicKeysPem.map((k) => k.trim())).toEqual([a.trim(), b.trim()]);
    expect(trust?.cutOver?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });

  it('fails the start naming a missing file or one without a public key', () => {
    writeFileSync(join(dir, 'empty.pub'), 'not a key');
    for (const [file, why] of [
      ['absent.pub', 'ENOENT'],
      ['empty.pub', 'no PEM PUBLIC KEY block'],
    ])
      expect(() =>
        chainsTrustSource(
          parseConfig({ 'adoption.chains-public-key-files': join(dir, file as string) }),
          noKube,
          silentLogger(),
        ),
      ).toThrow(`adoption.chains-public-key-files ${join(dir, file as string)}: ${why}`);
  });

  it('refuses a cut-over that is not an RFC 3339 time', () => {
    expect(() => parseConfig({ 'adoption.cut-over': 'yesterday' })).toThrow(/adoption.cut-over/);
  });
});
