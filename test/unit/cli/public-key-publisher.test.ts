import { describe, expect, it } from 'vitest';
import { PublicKeyPublisher, publicKeysPem } from '../../../src/cli/public-key-publisher.ts';
import type { PublicKeySecretWriter } from '../../../src/kube/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import type { PublicKeyInfo } from '../../../src/signing/index.ts';

const key = (id: string, active: boolean): PublicKeyInfo => ({
  keyId: id,
  algorithm: 'ecdsa-p256-sha256',
  active,
  publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${id}\n-----END PUBLIC KEY-----`,
});

function setup(keys: PublicKeyInfo[], fail = false) {
  const written: string[] = [];
  const lines: string[] = [];
  const writer = {
    publish: async (pem: string) => {
      if (fail) throw new Error('publishing public keys to Secret ns/public-key: forbidden');
      written.push(pem);
      return true;
    },
    describe: () => 'ns/public-key',
  } satisfies Pick<PublicKeySecretWriter, 'publish' | 'describe'>;
  const publisher = new PublicKeyPublisher({
    writer,
    publicKeys: () => keys,
    logger: createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } }),
  });
  return { publisher, written, lines };
}

describe('PublicKeyPublisher', () => {
  it('writes every key as PEM, active first, one block per key ending in a newline', async () => {
    const { publisher, written } = setup([key('AAA', true), key('BBB', false)]);
    await publisher.sync();
    expect(written).toEqual([
      '-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n-----BEGIN PUBLIC KEY-----\nBBB\n-----END PUBLIC KEY-----\n',
    ]);
  });

  it('writes nothing while no key is loaded (an empty cosign.pub would fail every verification)', async () => {
    const { publisher, written } = setup([]);
    await publisher.sync();
    expect(written).toEqual([]);
  });

  it('logs a failure once, not at every poll, and never throws', async () => {
    const { publisher, lines } = setup([key('AAA', true)], true);
    await publisher.sync();
    await publisher.sync();
    expect(lines.filter((l) => l.includes('forbidden'))).toHaveLength(1);
  });

  it('joins PEM blocks whatever their trailing whitespace', () => {
    expect(publicKeysPem([{ publicKeyPem: 'A\n\n' }, { publicKeyPem: 'B' }])).toBe('A\nB\n');
  });
});
