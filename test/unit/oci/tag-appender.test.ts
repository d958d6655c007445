import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import {
  type AppendOptions,
  appendToTag,
  attestationLayer,
  cosignTagDocument,
  type Descriptor,
  dedupeEntries,
  type ManifestResponse,
  SETTLE_CAP_MS,
  sha256Digest,
  signatureLayer,
} from '../../../src/oci/index.ts';

/** An in-memory tag store standing in for the registry, with a hook to play a foreign writer. */
function fakeRegistry() {
  const tags = new Map<string, Uint8Array>();
  const state = { afterPut: undefined as undefined | (() => void), puts: 0, reads: 0 };
  const client = {
    registry: 'fake.test',
    async uploadBlob(_repo: string, bytes: Uint8Array) {
      return sha256Digest(bytes);
    },
    async getManifest(_repo: string, tag: string): Promise<ManifestResponse | undefined> {
      state.reads++;
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
/** appendToTag options for tag `t.att` of the fake registry, without additions. */
const options = (r: ReturnType<typeof fakeRegistry>) => ({
  client: r.client,
  repository: 'a',
  tag: 't.att',
  document: cosignTagDocument,
  sleep: noSleep,
});

describe('appendToTag', () => {
  it('appends, and storing the same layer again writes nothing', async () => {
    const r = fakeRegistry();
    const o = options(r);
    expect(await appendToTag({ ...o, additions: [add('one')] })).toMatchObject({ added: 1, attempts: 1 });
    expect(await appendToTag({ ...o, additions: [add('two')] })).toMatchObject({ added: 1 });
    expect(await appendToTag({ ...o, additions: [add('one')] })).toMatchObject({ added: 0 });
    expect(r.layers('t.att').map((l) => l.digest)).toEqual([
      layer('one').descriptor.digest,
      layer('two').descriptor.digest,
    ]);
    expect(r.state.puts).toBe(2);
  });

  it('reads the tag twice per append: once to merge, once after the settle time', async () => {
    const r = fakeRegistry();
    await appendToTag({ ...options(r), additions: [add('one')] });
    expect(r.state).toMatchObject({ reads: 2, puts: 1 });
  });

  it("uploads a fresh tag's config before reading the tag: only the read and the PUT are in the window", async () => {
    const r = fakeRegistry();
    const log: string[] = [];
    const config = (entries: Descriptor[]) => sha256Digest(cosignTagDocument.render(entries).blobs[0]);
    const upload = r.client.uploadBlob;
    r.client.uploadBlob = async (repo, bytes) => {
      const digest = await upload(repo, bytes);
      log.push(`upload ${digest}`);
      return digest;
    };
    const read = r.client.getManifest;
    r.client.getManifest = async (repo, tag) => {
      log.push('read');
      return read(repo, tag);
    };
    const put = r.client.putManifest;
    r.client.putManifest = async (repo, tag, bytes) => {
      log.push('put');
      return put(repo, tag, bytes);
    };
    await appendToTag({ ...options(r), additions: [add('one')] });
    const one = layer('one').descriptor;
    expect(log.slice(0, 2).sort()).toEqual([`upload ${one.digest}`, `upload ${config([one])}`].sort());
    expect(log.slice(2)).toEqual(['read', 'put', 'read']);
    // a tag that holds entries: the merged document's config goes up after the read
    log.length = 0;
    await appendToTag({ ...options(r), additions: [add('two')] });
    const two = layer('two').descriptor;
    expect(log.slice(2)).toEqual(['read', `upload ${config([one, two])}`, 'put', 'read']);
    expect(r.layers('t.att')).toEqual([one, two]);
  });

  it('writes again when a foreign writer replaces our manifest right after our PUT', async () => {
    const r = fakeRegistry();
    const o = options(r);
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

  it('settles an entry it finds stored already: a writer that read before that PUT may still replace it', async () => {
    const r = fakeRegistry();
    const o = options(r);
    // a replica PUT our layer and died before its settle read; a foreign writer read the tag before
    // that PUT and replaces it right after our first read
    await appendToTag({ ...o, additions: [add('ours')] });
    const foreign = cosignTagDocument.render([layer('foreign').descriptor]).bytes;
    const read = r.client.getManifest;
    let reads = 0;
    r.client.getManifest = async (repo, tag) => {
      const answer = await read(repo, tag);
      if (++reads === 1) r.tags.set('t.att', foreign);
      return answer;
    };
    const result = await appendToTag({ ...o, additions: [add('ours')] });
    expect(result).toMatchObject({ added: 1, attempts: 2 });
    expect(r.layers('t.att').map((l) => l.digest)).toEqual(
      [layer('foreign'), layer('ours')].map((l) => l.descriptor.digest),
    );
  });

  it('merges duplicate layers found in an existing manifest', async () => {
    const r = fakeRegistry();
    r.tags.set('t.att', cosignTagDocument.render([layer('x').descriptor, layer('x').descriptor]).bytes);
    await appendToTag({
      ...options(r),
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
        ...options(r),
        maxAttempts: 3,
        additions: [add('z')],
      }),
    ).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('fake.test/a:t.att') });
  });

  it('counts an entry storedAs accepts as stored: no PUT, nothing added', async () => {
    const r = fakeRegistry();
    const o = options(r);
    await appendToTag({ ...o, additions: [add('signed once')] });
    const resigned = {
      ...add('signed twice'),
      storedAs: async (e: Descriptor) => e.digest === layer('signed once').descriptor.digest,
    };
    expect(await appendToTag({ ...o, additions: [resigned] })).toMatchObject({ added: 0, attempts: 1 });
    expect(r.state.puts).toBe(1);
    const refused = { ...add('another'), storedAs: async () => false };
    expect(await appendToTag({ ...o, additions: [refused] })).toMatchObject({ added: 1 });
    expect(r.layers('t.att')).toHaveLength(2);
  });

  it('succeeds at once when a racing writer of the same payload replaces our manifest with its own', async () => {
    const r = fakeRegistry();
    const o = options(r);
    const theirs = layer('same payload, their signature').descriptor;
    r.state.afterPut = () => r.tags.set('t.att', cosignTagDocument.render([theirs]).bytes);
    const ours = {
      ...add('same payload, our signature'),
      storedAs: async (e: Descriptor) => e.digest === theirs.digest,
    };
    expect(await appendToTag({ ...o, additions: [ours] })).toMatchObject({ attempts: 1 });
    expect(r.layers('t.att').map((l) => l.digest)).toEqual([theirs.digest]);
  });

  it('retries a retryable blob upload failure instead of failing the append', async () => {
    const r = fakeRegistry();
    let failures = 1;
    const upload = r.client.uploadBlob;
    r.client.uploadBlob = async (repo, bytes) => {
      if (failures-- > 0)
        throw new ObserverError('upload blob: HTTP 500', { code: 'registry', retryable: true });
      return upload(repo, bytes);
    };
    const result = await appendToTag({
      ...options(r),
      additions: [add('x')],
    });
    expect(result).toMatchObject({ added: 1, attempts: 2 });
  });

  it('keeps two signatures of one simplesigning payload apart (same digest, other signature annotation)', () => {
    const body = new TextEncoder().encode('{}');
    const a = signatureLayer(body, new Uint8Array([1]), {}).descriptor;
    const b = signatureLayer(body, new Uint8Array([2]), {}).descriptor;
    expect(a.digest).toBe(b.digest);
    expect(dedupeEntries([a, b, a])).toEqual([a, b]);
  });

  it('waits twice its own read-to-PUT time before the settle check when that exceeds settleMs, at most SETTLE_CAP_MS', async () => {
    for (const [step, expected] of [
      [10, 250],
      [300, 600],
      [4000, SETTLE_CAP_MS],
    ]) {
      const r = fakeRegistry();
      const waits: number[] = [];
      let t = 0;
      await appendToTag({
        ...options(r),
        settleMs: 250,
        now: () => (t += step),
        sleep: async (ms) => void waits.push(ms),
        additions: [add('slow')],
      });
      expect(waits).toEqual([expected]);
    }
  });
});
