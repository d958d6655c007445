import { setTimeout as wait } from 'node:timers/promises';
import { ObserverError } from '../errors.ts';
import { type AttemptContext, NO_ATTEMPT } from '../model/index.ts';
import { delayFor } from '../retry/index.ts';
import { sha256Digest } from './digest.ts';
import type { Descriptor } from './manifest.ts';
import { ANNOTATION_SIGNATURE } from './media-types.ts';
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

/** An entry to add to the document at a tag. */
export interface Addition {
  descriptor: Descriptor;
  /** the blob the descriptor points at (layer bytes), uploaded before the document that names it */
  blob?: Uint8Array;
  /**
   * Whether an entry already at the tag counts as this addition stored (e.g. the same payload with
   * another signature that verifies with a published key). Called only for entries that are not
   * the same entry (sameEntry); may read the registry. A retryable ObserverError retries the
   * attempt; any other error fails the append. Default: only the same entry counts.
   */
  storedAs?: (existing: Descriptor, context: AttemptContext) => Promise<boolean>;
  /**
   * What makes two additions of one batch the same (OciBackend merges them into one entry); default
   * the payload named by the layer. Set it when one payload has several entries that all belong
   * (a `.sig` signed by the platform key and by a tenant key).
   */
  sameAs?: string;
}

export interface AppendOptions {
  client: Pick<RegistryClient, 'registry' | 'getManifest' | 'putManifest' | 'uploadBlob'>;
  repository: string;
  tag: string;
  document: TagDocument;
  /** entries to add. Additions already present (the same entry, or one `storedAs` accepts) are not added again. */
  additions: Addition[];
  /** default 8 */
  maxAttempts?: number;
  /**
   * How long after our PUT the tag must still hold our entries: this (default 250 ms) or, when
   * longer, twice our own read-to-PUT time (a slow registry or machine slows every writer), at most
   * SETTLE_CAP_MS. Covers another writer that read before our PUT and writes after it (its
   * read-to-write window must be shorter). Only distinct entries depend on it: writers racing on
   * the same entry or payload accept each other's entry (storedAs), whatever the timing.
   */
  settleMs?: number;
  /**
   * the attempt (or, for a batch, the attempts) the append serves: every registry call carries it,
   * and past its signal nothing more is written and the loop stops. Default NO_ATTEMPT.
   */
  context?: AttemptContext;
  /** default setTimeout-based, cut short (rejecting) when the context's signal aborts */
  sleep?: (ms: number) => Promise<void>;
  /** default Date.now (measures our read-to-PUT time) */
  now?: () => number;
}

export interface AppendResult {
  /** digest of the document at the tag once it held every addition */
  digest: string;
  /** entries we wrote (0 when all were already there) */
  added: number;
  attempts: number;
}

/** Sleeps, cut short (rejecting) when the attempt's deadline passes. */
const sleepUntil = (signal: AbortSignal | undefined) => (ms: number) =>
  wait(ms, undefined, signal ? { signal } : {});

/** The longest settle wait, however slow our own write was. */
export const SETTLE_CAP_MS = 5000;

/**
 * What makes two entries one: the digest, and for cosign layers the signature annotation (a
 * `.sig` layer's digest is over the payload only, so a second signature of the same payload is
 * another entry; cosign's mutate.AppendSignatures keeps both too).
 */
export function entryKey(d: Descriptor): string {
  return `${d.digest} ${d.annotations?.[ANNOTATION_SIGNATURE] ?? ''}`;
}

export const sameEntry = (a: Descriptor, b: Descriptor): boolean => entryKey(a) === entryKey(b);

/** Keeps the first of each entry: never two equal entries, and duplicates found are merged. */
export function dedupeEntries(entries: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(entryKey(e)) && seen.add(entryKey(e)));
}

/**
 * Appends entries to the document at a tag without losing anyone's entries, as far as a registry
 * without compare-and-swap allows (distribution 2.8 ignores If-Match): read, keep the additions
 * not yet stored, merge (dedupe), PUT
 * (with If-Match on the ETag for registries that honour it: 412 restarts), then re-read after the
 * settle time (`settleMs`); if an addition is no longer stored another writer replaced our
 * manifest, so back off and write again. Additions found stored already (an earlier attempt's or a
 * dead replica's PUT) settle the same way before they count. An addition counts as stored when its
 * entry, or an entry its `storedAs` accepts, is at the tag: two writers racing on one payload end
 * with one entry, and both succeed. Every registry call is inside the retried attempt. In-process writers must
 * be serialised per tag by the caller (KeyedBatcher).
 */
export async function appendToTag(o: AppendOptions): Promise<AppendResult> {
  const context = o.context ?? NO_ATTEMPT;
  const sleep = o.sleep ?? sleepUntil(context.signal);
  const maxAttempts = o.maxAttempts ?? 8;
  const settleMs = o.settleMs ?? 250;
  const clock = o.now ?? Date.now;
  const stored = storedCheck(context);
  const missingFrom = async (m: ManifestResponse | undefined) => {
    const entries = o.document.entries(m);
    const missing: Addition[] = [];
    for (const a of o.additions) if (!(await stored(a, entries))) missing.push(a);
    return missing;
  };
  /** The tag after the settle time: twice our read-to-PUT window, at least settleMs, at most the cap. */
  const settleRead = async (readAt: number) => {
    await sleep(Math.min(SETTLE_CAP_MS, Math.max(settleMs, 2 * (clock() - readAt))));
    return o.client.getManifest(o.repository, o.tag, context);
  };
  let added = 0;
  let lastError: unknown;
  /** digests of document blobs this append uploaded (the predicted config: see below) */
  const uploaded = new Set<string>();
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(backoffMs(attempt));
    // past the attempt's deadline nothing more is written (its requests are aborted too)
    context.signal?.throwIfAborted();
    try {
      // blobs first, out of the read-to-PUT window (uploadBeforeRead); a retry's are there already
      if (attempt === 1) for (const digest of await uploadBeforeRead(o)) uploaded.add(digest);
      const readAt = clock();
      const base = await o.client.getManifest(o.repository, o.tag, context);
      const missing = await missingFrom(base);
      if (missing.length === 0) {
        // stored already (see above): it settles as our own PUT would
        const settled = await settleRead(readAt);
        if ((await missingFrom(settled)).length === 0)
          return { digest: settled?.digest ?? '', added, attempts: attempt };
        continue;
      }
      const existing = o.document.entries(base);
      const merged = dedupeEntries([...existing, ...missing.map((a) => a.descriptor)]);
      const doc = o.document.render(merged);
      // the document's own blobs (a config over the merged entries); no re-read before the PUT:
      // a writer that moved the tag since our read is caught by the settle read (ours) or by its
      // own (a careful writer's), and a read here would cost every append a request to narrow a
      // window of a few milliseconds
      await uploadAll(
        o,
        [
          ...(attempt === 1 ? [] : missing.flatMap((a) => (a.blob ? [a.blob] : []))),
          ...doc.blobs.filter((blob) => !uploaded.has(sha256Digest(blob))),
        ],
        attempt === 1,
      );
      const put = await o.client.putManifest(o.repository, o.tag, doc.bytes, doc.mediaType, {
        ifMatch: base?.etag,
        context,
      });
      added = Math.max(added, merged.length - existing.length);
      // one read, after the settle time, tells whether our entries stayed
      const settled = await settleRead(readAt);
      if ((await missingFrom(settled)).length === 0)
        return { digest: settled?.digest ?? put.digest, added, attempts: attempt };
    } catch (err) {
      // a host known to be down (its circuit is open) will not answer the next loop either
      const hopeless = !(err instanceof ObserverError && err.retryable) || err.notBefore !== undefined;
      if (hopeless || context.signal?.aborted) throw err;
      lastError = err;
    }
  }
  throw new ObserverError(
    `appending to ${o.client.registry}/${o.repository}:${o.tag}: entries still missing after ${maxAttempts} attempts (concurrent writers)`,
    {
      code: 'registry',
      retryable: true,
      cause: lastError,
    },
  );
}

/**
 * Uploads the additions' blobs and the predicted document's blobs; returns the latter's digests.
 * Blobs are content-addressed: uploading the additions' blobs first (at once) is safe whatever the
 * tag holds, and keeps them out of the read-to-PUT window, which sets the settle time. So does the
 * document's own blob (a config over its entries) as it will be when the tag holds nothing yet,
 * the usual case (a freshly built image): the window then holds only the read and the PUT. A tag
 * that holds entries gets the merged document's blob after the read, and this one stays
 * unreferenced (the registry's garbage collection removes it).
 */
async function uploadBeforeRead(o: AppendOptions): Promise<string[]> {
  const predicted = o.document.render(dedupeEntries(o.additions.map((a) => a.descriptor))).blobs;
  await uploadAll(o, [...o.additions.flatMap((a) => (a.blob ? [a.blob] : [])), ...predicted], true);
  return predicted.map((blob) => sha256Digest(blob));
}

/**
 * Uploads blobs at once. On the first attempt they are new (an envelope just signed, a config over
 * the merged entries): no existence check first; a retry checks (they may be there by now).
 */
async function uploadAll(o: AppendOptions, blobs: Uint8Array[], fresh: boolean): Promise<void> {
  await Promise.all(
    blobs.map((blob) => o.client.uploadBlob(o.repository, blob, { fresh, context: o.context })),
  );
}

/**
 * Whether an addition is stored among these entries. `storedAs` answers are remembered per entry
 * for this append (entries are content-addressed, so the answer cannot change).
 */
function storedCheck(context: AttemptContext) {
  const answers = new Map<Addition, Map<string, boolean>>();
  return async (a: Addition, entries: Descriptor[]): Promise<boolean> => {
    if (entries.some((e) => sameEntry(e, a.descriptor))) return true;
    if (!a.storedAs) return false;
    const known = answers.get(a) ?? new Map<string, boolean>();
    answers.set(a, known);
    for (const e of entries) {
      const key = entryKey(e);
      const yes = known.get(key) ?? (await a.storedAs(e, context));
      known.set(key, yes);
      if (yes) return true;
    }
    return false;
  };
}

/** The service's one backoff (retry/): 50 ms · 2^(n-2) ceiling, capped at 2 s, equal jitter. */
function backoffMs(attempt: number): number {
  return delayFor(attempt - 2, { baseMs: 50, maxMs: 2000, random: Math.random });
}
