import { createHash } from 'node:crypto';
import { canonicalJson } from '../formats/index.ts';
import { leafHash, noteKeyOf, openCheckpoint, verifyInclusion } from '../log/index.ts';
import type { Check } from './image-checks.ts';

/** The `log` object of an attestation's API answer (index/log/log-proofs.ts LogProof). */
export interface LogProofFile {
  index: number;
  treeSize: number;
  entry?: string;
  inclusionProof: string[];
}

/**
 * Offline check that an envelope is in the decision log (docs/log.md): the checkpoint's signature
 * verifies with `publicKeyPem` under its own origin as key name; the entry is canonical JSON of an
 * `attested` or `adopted` decision whose payload digest is the envelope's; and the entry's leaf
 * hash with the inclusion proof leads to the checkpoint's root at the checkpoint's size.
 */
export function checkLogInclusion(o: {
  envelope: Uint8Array;
  proof: LogProofFile;
  checkpointNote: string;
  publicKeyPem: string;
}): Check[] {
  const checks: Check[] = [];
  const origin = o.checkpointNote.split('\n', 1)[0] ?? '';
  let opened: ReturnType<typeof openCheckpoint>;
  try {
    opened = openCheckpoint(o.checkpointNote, [noteKeyOf(origin, o.publicKeyPem)]);
  } catch (err) {
    opened = { error: (err as Error).message };
  }
  if ('error' in opened) return [{ name: 'log checkpoint signature', ok: false, detail: opened.error }];
  checks.push({ name: 'log checkpoint signature', ok: true, detail: `${origin}, size ${opened.size}` });
  const entryCheck = checkEntry(o.envelope, o.proof.entry);
  checks.push(entryCheck.check);
  if (!entryCheck.check.ok || o.proof.entry === undefined) return checks;
  if (o.proof.treeSize !== opened.size) {
    checks.push({
      name: 'log inclusion',
      ok: false,
      detail: `the proof is for tree size ${o.proof.treeSize}, the checkpoint for ${opened.size}: fetch the proof for this checkpoint`,
    });
    return checks;
  }
  const leaf = leafHash(Buffer.from(o.proof.entry, 'utf8'));
  const why = verifyInclusion(
    o.proof.index,
    o.proof.treeSize,
    leaf,
    o.proof.inclusionProof.map((p) => Buffer.from(p, 'base64')),
    opened.rootHash,
  );
  checks.push({
    name: 'log inclusion',
    ok: why === undefined,
    detail: why ?? `entry ${o.proof.index} of ${opened.size}`,
  });
  return checks;
}

function checkEntry(envelope: Uint8Array, entry: string | undefined): { check: Check } {
  const name = 'log entry';
  if (entry === undefined) return { check: { name, ok: false, detail: 'the proof carries no entry' } };
  let parsed: { type?: string; payloadDigest?: string };
  try {
    parsed = JSON.parse(entry);
  } catch {
    return { check: { name, ok: false, detail: 'the entry is not JSON' } };
  }
  if (canonicalJson(parsed) !== entry)
    return { check: { name, ok: false, detail: 'the entry is not canonical JSON' } };
  let payload: string;
  try {
    payload = (JSON.parse(Buffer.from(envelope).toString('utf8')) as { payload: string }).payload;
  } catch {
    return { check: { name, ok: false, detail: 'the envelope is not JSON' } };
  }
  const digest = `sha256:${createHash('sha256').update(Buffer.from(payload, 'base64')).digest('hex')}`;
  if (parsed.type !== 'attested' && parsed.type !== 'adopted')
    return {
      check: { name, ok: false, detail: `the entry records a ${parsed.type} decision, not an attestation` },
    };
  if (parsed.payloadDigest !== digest)
    return {
      check: {
        name,
        ok: false,
        detail: `the entry is of payload ${parsed.payloadDigest}, the envelope's is ${digest}`,
      },
    };
  return { check: { name, ok: true, detail: `${parsed.type} ${digest}` } };
}
