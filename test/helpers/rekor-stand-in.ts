import { createHash, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { json } from '@sigstore/core';
import { pae } from '../../src/signing/index.ts';

/** One entry as Rekor v1 answers it (openapi.yaml LogEntry, the value under its entry UUID). */
export interface StandInEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: { signedEntryTimestamp: string };
}

export interface RekorStandIn {
  url: string;
  /** entries by entry ID (tree ID + leaf hash, 80 hex), in log order */
  readonly entries: Map<string, StandInEntry>;
  /** POSTs to /api/v1/log/entries answered 201 (entries created) and 409 (already there) */
  readonly created: { count: number; conflicts: number };
  /** every request as `METHOD /path`, in order */
  readonly requests: string[];
  /** when set, /api/v1/index/retrieve answers this status with Rekor's error JSON */
  indexStatus?: number;
  close(): Promise<void>;
}

const TREE_ID = '0000000000000001'.padStart(16, '0');

/**
 * A Rekor v1 stand-in on 127.0.0.1 for the `dsse` v0.0.1 type only (there is no Rekor server package
 * to start in the test environment). It follows sigstore/rekor where the observer can tell:
 * createLogEntry verifies every envelope signature with one of the proposed verifiers and logs the
 * canonicalized body (pkg/types/dsse/v0.0.1/entry.go Unmarshal + Canonicalize: envelopeHash,
 * payloadHash, signatures sorted by signature, verifiers as PEM; JCS), answers 201 with
 * `{<entryID>: LogEntry}` and Location/ETag, or 409 with Location when the same body is logged
 * (pkg/api/entries.go); the entry ID is the tree ID and the RFC 6962 leaf hash; the
 * signedEntryTimestamp signs the JCS of {body, integratedTime, logID, logIndex} with the log's
 * key. The index (pkg/api/index.go SearchIndexHandler, `hash` only) holds each entry's IndexKeys
 * (payload hash, envelope hash, key hashes) and is written at once (Rekor writes it
 * asynchronously). No inclusion proofs, no other entry types, no sharding.
 */
export async function startRekorStandIn(): Promise<RekorStandIn> {
  const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const logID = createHash('sha256')
    .update(logKey.publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex');
  const index = new Map<string, Set<string>>();
  const stand: Omit<RekorStandIn, 'url' | 'close'> = {
    entries: new Map(),
    created: { count: 0, conflicts: 0 },
    requests: [],
  };

  const create = (proposed: ProposedDsse, res: ServerResponse) => {
    const logged = canonicalize(proposed);
    if ('error' in logged) return answer(res, 400, { code: 400, message: logged.error });
    const body = Buffer.from(logged.body);
    const entryID =
      TREE_ID +
      createHash('sha256')
        .update(Buffer.from([0]))
        .update(body)
        .digest('hex');
    const location = `/api/v1/log/entries/${entryID}`;
    if (stand.entries.has(entryID)) {
      stand.created.conflicts++;
      res.setHeader('Location', location);
      return answer(res, 409, {
        code: 409,
        message: `an equivalent entry already exists in the transparency log with UUID ${entryID}`,
      });
    }
    const anon = {
      body: body.toString('base64'),
      integratedTime: Math.floor(Date.now() / 1000),
      logID,
      logIndex: stand.entries.size,
    };
    const set = sign('sha256', Buffer.from(json.canonicalize(anon)), logKey.privateKey).toString('base64');
    stand.entries.set(entryID, { ...anon, verification: { signedEntryTimestamp: set } });
    for (const key of logged.indexKeys) index.set(key, (index.get(key) ?? new Set()).add(entryID));
    stand.created.count++;
    res.setHeader('Location', location);
    res.setHeader('ETag', entryID);
    return answer(res, 201, { [entryID]: stand.entries.get(entryID) });
  };
  const byId = (id: string) =>
    [...stand.entries].find(
      ([entryID]) => entryID === id.toLowerCase() || entryID.endsWith(id.toLowerCase()),
    );

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const input = req.method === 'POST' ? await readJson(req) : undefined;
    stand.requests.push(`${req.method} ${path}`);
    if (req.method === 'POST' && path === '/api/v1/log/entries') return create(input as ProposedDsse, res);
    if (req.method === 'GET' && path.startsWith('/api/v1/log/entries/')) {
      const found = byId(path.slice('/api/v1/log/entries/'.length));
      return found
        ? answer(res, 200, { [found[0]]: found[1] })
        : answer(res, 404, { code: 404, message: '' });
    }
    if (req.method === 'POST' && path === '/api/v1/log/entries/retrieve') {
      const ids: string[] = (input as { entryUUIDs?: string[] })?.entryUUIDs ?? [];
      if (ids.length > 10)
        return answer(res, 422, { code: 422, message: 'maximum number of search queries' });
      const found = ids.map(byId).filter((e): e is [string, StandInEntry] => e !== undefined);
      return answer(
        res,
        200,
        found.map(([id, entry]) => ({ [id]: entry })),
      );
    }
    if (req.method === 'POST' && path === '/api/v1/index/retrieve') {
      if (stand.indexStatus)
        return answer(res, stand.indexStatus, { code: stand.indexStatus, message: 'index' });
      const hash = String((input as { hash?: string })?.hash ?? '').toLowerCase();
      // newest first: Rekor's index answer has no order (a set in Redis), so callers must not rely on one
      return answer(res, 200, [...(index.get(hash.includes(':') ? hash : `sha256:${hash}`) ?? [])].reverse());
    }
    return answer(res, 404, { code: 404, message: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(stand, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

interface ProposedDsse {
  kind?: string;
  apiVersion?: string;
  spec?: { proposedContent?: { envelope?: string; verifiers?: string[] } };
}

/** Rekor's dsse Unmarshal + Canonicalize + IndexKeys, for what the observer sends. */
function canonicalize(proposed: ProposedDsse): { body: string; indexKeys: string[] } | { error: string } {
  const content = proposed?.spec?.proposedContent;
  if (proposed?.kind !== 'dsse' || proposed.apiVersion !== '0.0.1' || typeof content?.envelope !== 'string')
    return { error: 'only dsse 0.0.1 proposedContent' };
  let env: { payloadType: string; payload: string; signatures: { sig: string }[] };
  try {
    env = JSON.parse(content.envelope);
  } catch {
    return { error: 'envelope is not JSON' };
  }
  if (!env.signatures?.length) return { error: 'DSSE envelope must contain 1 or more signatures' };
  const payload = Buffer.from(env.payload, 'base64');
  const verifiers = (content.verifiers ?? []).map((v) =>
    canonicalPem(Buffer.from(v, 'base64').toString('utf8')),
  );
  const signatures: { signature: string; verifier: string }[] = [];
  for (const s of env.signatures) {
    const key = verifiers.find((v) => verifies(v, pae(env.payloadType, payload), s.sig));
    if (!key) return { error: 'all signatures must have a key that verifies it' };
    signatures.push({ signature: s.sig, verifier: Buffer.from(key).toString('base64') });
  }
  signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
  const spec = {
    envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope) },
    payloadHash: { algorithm: 'sha256', value: sha256(payload) },
    signatures,
  };
  const indexKeys = [
    ...signatures.map((s) => `sha256:${sha256(Buffer.from(s.verifier, 'base64'))}`),
    `sha256:${spec.payloadHash.value}`,
    `sha256:${spec.envelopeHash.value}`,
  ];
  return { body: json.canonicalize({ apiVersion: '0.0.1', kind: 'dsse', spec }), indexKeys };
}

/** signature.LoadVerifier(key, crypto.SHA256): SHA-256 for ECDSA and RSA, pure Ed25519. */
function verifies(pem: string, message: Buffer, sig: string): boolean {
  const key = createPublicKey(pem);
  try {
    return verify(
      key.asymmetricKeyType === 'ed25519' ? null : 'sha256',
      message,
      key,
      Buffer.from(sig, 'base64'),
    );
  } catch {
    return false;
  }
}

/** pkg/pki/x509 CanonicalValue: the certificate's PEM, or the PKIX public key's PEM. */
function canonicalPem(pem: string): string {
  if (pem.includes('CERTIFICATE')) return new X509Certificate(pem).toString();
  return createPublicKey(pem).export({ format: 'pem', type: 'spki' }).toString();
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
