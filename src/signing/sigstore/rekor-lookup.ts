import { createHash, createPublicKey } from 'node:crypto';
import { ObserverError } from '../../errors.ts';
import { readCapped } from '../../oci/index.ts';
import { schemeParams } from '../algorithm.ts';
import { pae } from '../dsse.ts';
import type { Signer } from '../signer.ts';
import { judgeEntry, transparencyEntry, type WantedEntry } from './rekor-entry.ts';
import type { FoundEnvelope } from './transparency-log.ts';

export interface RekorLookupOptions {
  /** Rekor base URL, as for uploads */
  url: string;
  /** per request; default 10 s */
  timeoutMs?: number | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** The index answer: a JSON array of entry UUIDs (80 hex each), capped at 64 KiB (~780 UUIDs). */
const INDEX_LIMIT = 64 * 1024;
/** Ten entries (Rekor's maxSearchQueries) with their inclusion proofs: a few KiB each; 1 MiB cap. */
const ENTRIES_LIMIT = 1024 * 1024;
/** Rekor answers at most 10 UUIDs per entries/retrieve (pkg/api/entries.go maxSearchQueries). */
const BATCH = 10;
/**
 * Candidates read at most. Anyone may log our payload, so an index answer can be padded with
 * foreign entries; past this many we stop reading and upload (a second entry of ours, never a
 * wrong one).
 */
const MAX_CANDIDATES = 30;
const UUID = /^([0-9a-f]{64}|[0-9a-f]{80})$/i;

/**
 * Looks our payload up in a Rekor v1 log: `POST /api/v1/index/retrieve {"hash":"sha256:<payload>"}`
 * (dsse entries are indexed under `sha256:<payloadHash>`, sigstore/rekor
 * pkg/types/dsse/v0.0.1/entry.go IndexKeys), then `POST /api/v1/log/entries/retrieve` for the UUIDs
 * (openapi.yaml searchIndex, searchLogQuery), each entry judged by judgeEntry. When several of ours
 * exist (two replicas raced), the lowest logIndex is taken, so every later attempt reuses the same.
 *
 * Failures (connection, timeout, a 5xx, a body that is not the JSON Rekor sends, larger than its
 * cap) are ObserverError 'tlog', retryable, like a failed upload: this Rekor is the one the upload
 * would go to, and uploading past a lookup that could not answer would make exactly the second
 * entry the lookup exists to prevent. The exception is an index answering 404/501: an instance run
 * without the search index (rekor-server `--enable_retrieve_api=false` serves 501,
 * SearchIndexNotImplementedHandler in pkg/api/index.go) will never answer, so that is "not found".
 * The index is written asynchronously after an entry is made (pkg/api/entries.go createLogEntry),
 * so an entry made a moment ago may not be found yet.
 */
export async function findRekorEnvelope(
  options: RekorLookupOptions,
  payload: Uint8Array,
  payloadType: string,
  key: Pick<Signer, 'publicKeyPem' | 'algorithm'>,
): Promise<FoundEnvelope | undefined> {
  const url = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const want: WantedEntry = {
    payloadHash: createHash('sha256').update(payload).digest('hex'),
    message: pae(payloadType, payload),
    publicKey: createPublicKey(key.publicKeyPem),
    digest: schemeParams(key.algorithm).digest,
  };
  const fail = (reason: string) =>
    new ObserverError(`looking up the payload in transparency log ${url}: ${reason}`, {
      code: 'tlog',
      retryable: true,
    });
  const index = await post(
    url,
    '/api/v1/index/retrieve',
    { hash: `sha256:${want.payloadHash}` },
    timeoutMs,
    INDEX_LIMIT,
    fail,
  );
  if (index.status === 404 || index.status === 501) return undefined;
  const listed = answered(index, fail);
  if (!Array.isArray(listed)) throw fail('index answer is not a list of UUIDs');
  const uuids = [...new Set(listed.filter((u): u is string => typeof u === 'string' && UUID.test(u)))];
  let best: FoundEnvelope | undefined;
  for (let at = 0; at < Math.min(uuids.length, MAX_CANDIDATES); at += BATCH) {
    const entryUUIDs = uuids.slice(at, Math.min(at + BATCH, MAX_CANDIDATES));
    const answer = answered(
      await post(url, '/api/v1/log/entries/retrieve', { entryUUIDs }, timeoutMs, ENTRIES_LIMIT, fail),
      fail,
    );
    if (!Array.isArray(answer)) throw fail('entries answer is not a list');
    for (const found of answer.flatMap((e) => ours(url, e, want)))
      if (!best || found.entry.logIndex < best.entry.logIndex) best = found;
  }
  return best;
}

/** Our entries among one answer element (`{<uuid>: LogEntry}`); malformed ones are skipped. */
function ours(url: string, element: unknown, want: WantedEntry): FoundEnvelope[] {
  if (!element || typeof element !== 'object') return [];
  const found: FoundEnvelope[] = [];
  for (const value of Object.values(element)) {
    const verdict = judgeEntry(value, want);
    if (!('signature' in verdict)) continue;
    try {
      found.push({ entry: transparencyEntry(url, value), signature: verdict.signature });
    } catch {
      // a body that is ours around a malformed entry: not reusable, and not worth failing over
    }
  }
  return found;
}

interface Answer {
  path: string;
  status: number;
  /** the parsed body of a 200 */
  json?: unknown;
}

/** The JSON of a 200 answer; any other status fails. */
function answered(answer: Answer, fail: (reason: string) => ObserverError): unknown {
  if (answer.status !== 200) throw fail(`${answer.path} answered ${answer.status}`);
  return answer.json;
}

/** POSTs `body`; reads the answer through its cap, and parses it when it is a 200. */
async function post(
  url: string,
  path: string,
  body: unknown,
  timeoutMs: number,
  limit: number,
  fail: (reason: string) => ObserverError,
): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'accept-encoding': 'identity',
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    throw fail(`${path}: ${timedOut ? `no answer in ${timeoutMs} ms` : 'connection failed'}`);
  }
  try {
    const bytes = await readCapped(res, limit);
    if (res.status !== 200) return { path, status: res.status };
    return { path, status: res.status, json: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch (err) {
    const reason = (err as Error).name === 'SyntaxError' ? 'answer is not JSON' : (err as Error).message;
    throw fail(`${path}: ${reason}`);
  }
}
