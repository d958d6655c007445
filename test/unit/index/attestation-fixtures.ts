import type { NewAttestation } from '../../../src/index/index.ts';
import type { RunKind } from '../../../src/tekton/run-ref.ts';

/** A digest made from a short label, so tests read `digestOf('app')` rather than 64 hex digits. */
export const digestOf = (label: string): string =>
  `sha256:${Buffer.from(label).toString('hex').padEnd(64, '0').slice(0, 64)}`;

/** A plausible attestation of one run; `sig` varies the envelope (and so the id). */
export function newAttestation(options: {
  namespace?: string;
  name?: string;
  kind?: RunKind;
  uid?: string;
  digests?: string[];
  sig?: string;
  createdAt?: Date;
}): NewAttestation {
  const namespace = options.namespace ?? 'tenant-a';
  const name = options.name ?? 'build-1';
  const statement = { _type: 'https://in-toto.io/Statement/v1', run: name };
  return {
    run: { kind: options.kind ?? 'TaskRun', namespace, name, uid: options.uid ?? `uid-${namespace}-${name}` },
    predicateType: 'https://slsa.dev/provenance/v1',
    subjects: (options.digests ?? [digestOf('app')]).map((digest, i) => ({
      name: `registry.local/app-${i}`,
      digest,
    })),
    envelope: {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      signatures: [{ keyid: 'SHA256:test', sig: options.sig ?? 'c2ln' }],
    },
    keyId: 'SHA256:test',
    storage: [{ backend: 'oci', ok: true, locations: ['registry.local/app:sha256-abc.att'] }],
    createdAt: options.createdAt ?? new Date('2025-01-01T00:00:00Z'),
  };
}
