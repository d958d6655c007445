import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { INTOTO_PAYLOAD_TYPE } from '../../src/intoto/index.ts';
import { keyIdOf, pae } from '../../src/signing/index.ts';

/**
 * Tekton Chains as it signs a run with `tekton` storage (tektoncd/chains pkg/chains/signing.go,
 * storage/tekton, signing/wrap.go; ../shared/reference/tekton-chains-behaviour.md §4.5, §5.1, §6.5):
 * the statement serialised the way protojson does it (top-level keys in proto order `_type,
 * subject, predicateType, predicate`, every predicate object's keys sorted, and one of protojson's
 * random spaces after a comma, so the bytes are never our canonical JSON), wrapped in a DSSE
 * envelope whose keyid is the SSH SHA-256 fingerprint, and stored as the annotations
 * `payload-<key>`, `signature-<key>` (the whole envelope), `cert-<key>` and `chain-<key>` (base64
 * of "" without a certificate), plus `signed: "true"`. `key` is Chains' signing key.
 */
export function chainsAnnotations(
  run: { kind: 'TaskRun' | 'PipelineRun'; uid: string },
  statement: { _type: string; subject: unknown[]; predicateType: string; predicate: unknown },
  key: KeyObject,
): Record<string, string> {
  const payload = Buffer.from(protojsonLike(statement), 'utf8');
  const sig = sign(hashOf(key), pae(INTOTO_PAYLOAD_TYPE, payload), key).toString('base64');
  const envelope = JSON.stringify({
    payloadType: INTOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyIdOf(createPublicKey(key)), sig }],
  });
  const short = `${run.kind.toLowerCase()}-${run.uid}`;
  return {
    'chains.tekton.dev/signed': 'true',
    [`chains.tekton.dev/payload-${short}`]: payload.toString('base64'),
    [`chains.tekton.dev/signature-${short}`]: Buffer.from(envelope).toString('base64'),
    [`chains.tekton.dev/cert-${short}`]: '',
    [`chains.tekton.dev/chain-${short}`]: '',
  };
}

/** protojson's layout of an in-toto Statement: proto field order on top, sorted keys below, a stray space. */
export function protojsonLike(statement: {
  _type: string;
  subject: unknown[];
  predicateType: string;
  predicate: unknown;
}): string {
  const body = [
    `"_type":${JSON.stringify(statement._type)}`,
    `"subject":${JSON.stringify(statement.subject)}`,
    `"predicateType":${JSON.stringify(statement.predicateType)}`,
    `"predicate":${JSON.stringify(sorted(statement.predicate))}`,
  ];
  // protojson inserts a space after some commas (golang/protobuf internal/detrand)
  return `{${body[0]}, ${body.slice(1).join(',')}}`;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** Chains' hash per key type (cosign LoadDefaultSignerVerifier: P-256 → SHA-256; Ed25519 → none). */
function hashOf(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}
