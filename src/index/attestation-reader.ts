import type { DsseEnvelope } from '../signing/index.ts';
import type { RunKey, RunKind } from '../tekton/index.ts';
import type { AttestationSummary, Page, RunState } from './attestation-index.ts';

/** The lookup API's read role: attestations by digest, by run, by id, and runs' states. */
export interface AttestationReader {
  /** States of every run (any uid) that had this kind, namespace and name, most recently updated first. */
  findRunStates(run: RunKey): Promise<RunState[]>;
  /** Attestations whose subjects include `digest`, newest first. */
  findByDigest(digest: string, page: { limit: number; cursor?: string }): Promise<Page<AttestationSummary>>;
  /** Attestations of one run (any uid that had this name), newest first. */
  findByRun(run: { namespace: string; kind: RunKind; name: string }): Promise<AttestationSummary[]>;
  getAttestation(id: string): Promise<AttestationSummary | undefined>;
  getEnvelope(id: string): Promise<DsseEnvelope | undefined>;
}
