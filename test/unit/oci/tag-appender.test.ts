import { describe, expect, it } from 'vitest';
import {
  type AppendOptions,
  appendToTag,
  attestationLayer,
  cosignTagDocument,
  type ManifestResponse,
  sha256Digest,
} from '../../../src/oci/index.ts';

/** An in-memory tag store standing in for the registry, with a hook to play a foreign writer. */
function fakeRegistry() {
  const tags = new Map<string, Uint8Array>();
  const state = { afterPut: undefined as undefined | (() => void), puts: 0 };
  const client = {
    registry: 'fake.test',
    async uploadBlob(_repo: string, bytes: Uint8Array) {
      return sha256Digest(bytes);
    },
    async getManifest(_repo: string, tag: string): Promise<ManifestResponse | undefined> {
      const bytes = tags.get(tag);
      return bytes
        ? { bytes, digest: sha256Digest(bytes), mediaType: 'application/vnd.oci.image.manifest.v1+json' }
        : undefined;
    },
    async putManifest(_repo: string, tag: string, bytes: Uint8Array) {
      tags.set(tag, bytes);
      state.puts++;
      const hook = state.afterPut;
      state.afterPut = undefined;
      hook?.();
      return { digest: sha256Digest(bytes) };
    },
  } satisfies AppendOptions['client'];
  const layers = (tag: string) =>
    cosignTagDocument.entries(
      tags.has(tag) ? { bytes: tags.get(tag) as Uint8Array, digest: '', mediaType: '' } : undefined,
    );
  return { client, tags, state, layers };
}

const layer = (s: string) => attestationLayer(new TextEncoder().encode(s), {});
const add = (s: string) => ({ descriptor: layer(s).descriptor, blob: layer(s).bytes });
const noSleep = async () => {};

describe('appendToTag', () => {
  it('appends, and storing the same layer again writes nothing', async () => {
    const r = fakeRegistry();
    const o = {
      client: r.client,
      repository: 'a',
      tag: 't.att',
      document: cosignTagDocument,
      sleep: noSleep,
    };
    expect(await appendToTag({ ...o, additions: [add('one')] })).toMatchObject({ added: 1, attempts: 1 });
    expect(await appendToTag({ ...o, additions: [add('two')] })).toMatchObject({ added: 1 });
    expect(await appendToTag({ ...o, additions: [add('one')] })).toMatchObject({ added: 0 });
    expect(r.layers('t.att').map((l) => l.digest)).toEqual([
      layer('one').descriptor.digest,
      layer('two').descriptor.digest,
    ]);
    expect(r.state.puts).toBe(2);
  });

  it('writes again when a foreign writer replaces our manifest right after our PUT', async () => {
    const r = fakeRegistry();
    const o = {
      client: r.client,
      repository: 'a',
      tag: 't.att',
      document: cosignTagDocument,
      sleep: noSleep,
    };
    await appendToTag({ ...o, additions: [add('base')] });
    // the foreign writer read the tag before our PUT and writes its own append after it
    const foreign = new TextEncoder().encode(
      new TextDecoder().decode(
        cosignTagDocument.render([layer('base').descriptor, layer('foreign').descriptor]).bytes,
      ),
    );
    r.state.afterPut = () => r.tags.set('t.att', foreign);
    const result = await appendToTag({ ...o, additions: [add('ours')] });
    expect(result.attempts).toBe(2);
    expect(
      r
        .layers('t.att')
        .map((l) => l.digest)
        .sort(),
    ).toEqual([layer('base'), layer('foreign'), layer('ours')].map((l) => l.descriptor.digest).sort());
  });

  it('merges duplicate layers found in an existing manifest', async () => {
    const r = fakeRegistry();
    r.tags.set('t.att', cosignTagDocument.render([layer('x').descriptor, layer('x').descriptor]).bytes);
    await appendToTag({
      client: r.client,
      repository: 'a',
      tag: 't.att',
      document: cosignTagDocument,
      sleep: noSleep,
      additions: [add('y')],
    });
    expect(r.layers('t.att').map((l) => l.digest)).toEqual([
      layer('x').descriptor.digest,
      layer('y').descriptor.digest,
    ]);
  });

  it('gives up after maxAttempts with a retryable error naming the tag', async () => {
    const r = fakeRegistry();
    r.client.putManifest = async (_repo, tag, bytes) => {
      r.tags.set(tag, cosignTagDocument.render([layer('other').descriptor]).bytes);
      return { digest: sha256Digest(bytes) };
    };
    await expect(
      appendToTag({
        client: r.client,
        repository: 'a',
        tag: 't.att',
        document: cosignTagDocument,
        sleep: noSleep,
        maxAttempts: 3,
        additions: [add('z')],
      }),
    ).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('fake.test/a:t.att') });
  });
});
