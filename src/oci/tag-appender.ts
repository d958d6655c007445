import { ObserverError } from '../errors.ts';
import type { Descriptor } from './manifest.ts';
import type { ManifestResponse, RegistryClient } from './registry-client.ts';

/**
 * Read-modify-write of a document at a tag whose entries are descriptors: the layers of a cosign
 * `.att`/`.sig` manifest, or the manifests of a referrers-tag index.
 */
export interface TagDocument {
  /** the entries of the document now at the tag (undefined: no tag yet) */
  entries(existing: ManifestResponse | undefined): Descriptor[];
  /** the document over these entries, and blobs it references (a config) to upload before it */
  render(entries: Descriptor[]): { bytes: Uint8Array; mediaType: string; blobs: Uint8Array[] };
}

export interface AppendOptions {
  client: Pick<RegistryClient, 'registry' | 'getManifest' | 'putManifest' | 'uploadBlob'>;
  repository: string;
  tag: string;
  document: TagDocument;
  /** entries to add; blobs (layer bytes) are uploaded first. Entries already present are not added again. */
  additions: { descriptor: Descriptor; blob?: Uint8Array }[];
  /** default 8 */
  maxAttempts?: number;
  /**
   * How long after our PUT the tag must still hold our entries; default 250 ms. Covers a foreign
   * writer that read before our PUT and writes after it (its read-to-write window must be shorter).
   */
  settleMs?: number;
  /** default setTimeout-based */
  sleep?: (ms: number) => Promise<void>;
}

export interface AppendResult {
  /** digest of the document at the tag once it held every addition */
  digest: string;
  /** entries we wrote (0 when all were already there) */
  added: number;
  attempts: number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Keeps the first of each digest: never two entries for one blob, and duplicates found are merged. */
export function dedupeByDigest(entries: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.digest) && seen.add(e.digest));
}

/**
 * Appends entries to the document at a tag without losing anyone's entries, as far as a registry
 * without compare-and-swap allows (distribution 2.8 ignores If-Match):
 * read, merge (dedupe), re-read just before the PUT and restart if the tag moved, PUT (with If-Match
 * on the ETag for registries that honour it: 412 restarts), then re-read immediately and again
 * after `settleMs`; if any of our entries is gone another writer replaced our manifest, so back off
 * and write again. In-process writers must be serialised per tag by the caller (KeyedBatcher).
 */
export async function appendToTag(o: AppendOptions): Promise<AppendResult> {
  const sleep = o.sleep ?? defaultSleep;
  const maxAttempts = o.maxAttempts ?? 8;
  const settleMs = o.settleMs ?? 250;
  const target = `${o.client.registry}/${o.repository}:${o.tag}`;
  for (const a of o.additions) if (a.blob) await o.client.uploadBlob(o.repository, a.blob);
  const wanted = o.additions.map((a) => a.descriptor.digest);
  const holdsAll = (m: ManifestResponse | undefined) => {
    const have = new Set(o.document.entries(m).map((e) => e.digest));
    return wanted.every((d) => have.has(d));
  };
  let added = 0;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(backoffMs(attempt));
    try {
      const base = await o.client.getManifest(o.repository, o.tag);
      const existing = o.document.entries(base);
      const merged = dedupeByDigest([...existing, ...o.additions.map((a) => a.descriptor)]);
      if (base && holdsAll(base) && merged.length === existing.length)
        return { digest: base.digest, added, attempts: attempt };
      const doc = o.document.render(merged);
      for (const blob of doc.blobs) await o.client.uploadBlob(o.repository, blob);
      const now = await o.client.getManifest(o.repository, o.tag);
      if (now?.digest !== base?.digest) continue;
      const put = await o.client.putManifest(o.repository, o.tag, doc.bytes, doc.mediaType, {
        ifMatch: base?.etag,
      });
      added = Math.max(added, merged.length - existing.length);
      if (!holdsAll(await o.client.getManifest(o.repository, o.tag))) continue;
      await sleep(settleMs);
      const settled = await o.client.getManifest(o.repository, o.tag);
      if (holdsAll(settled)) return { digest: settled?.digest ?? put.digest, added, attempts: attempt };
    } catch (err) {
      if (!(err instanceof ObserverError && err.retryable)) throw err;
      lastError = err;
    }
  }
  throw new ObserverError(
    `appending to ${target}: entries still missing after ${maxAttempts} attempts (concurrent writers)`,
    {
      code: 'registry',
      retryable: true,
      cause: lastError,
    },
  );
}

/** Exponential with full jitter: 50 ms · 2^(n-2), capped at 2 s. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(2000, 50 * 2 ** (attempt - 2));
}
