import type { ObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import type { ImageRef } from '../oci/index.ts';

export type { ImageRef };

import type { BackendName } from '../model/index.ts';
import type { CheckedImage } from '../policy/index.ts';
import type { DsseEnvelope } from '../signing/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { RunMarker } from './run-marker.ts';

export type { BackendName };

/**
 * A signed thing to store. Discriminated by `type`. The images it is attached to are CheckedImages:
 * subjects that passed the subject gate (policy/subject-gate.ts, the only maker of one), so no code
 * path can hand a backend an image that skipped the grammar, the policy or the existence check
 * (test/unit/attest/checked-subject.test.ts shows it to tsc).
 */
export type SignedArtifact =
  | {
      type: 'provenance';
      /** Chains short key: `taskrun-<uid>` / `pipelinerun-<uid>` */
      key: string;
      predicateType: string;
      /** the statement bytes exactly as signed */
      payload: Uint8Array;
      envelope: DsseEnvelope;
      /** the envelope JSON bytes exactly as stored (a layer's digest is over these) */
      envelopeBytes: Uint8Array;
      /** image subjects to attach the attestation to (subjects that are not images are not here) */
      images: readonly CheckedImage[];
      certificatePem?: string;
      chainPem?: string;
      /** cosign RekorBundle JSON when the envelope was logged in Rekor (OCI layer annotation) */
      rekorBundle?: string;
      /**
       * the key that signed it: ours when signed now, or for an adopted envelope the published key
       * that verified it (never the envelope's own, tenant-writable `keyid`); the index records it
       */
      keyId?: string;
      /**
       * the tenant key set whose signature the envelope also carries (`signing.tenant-keys`); the
       * layer counts as stored only with a valid signature of the platform AND of this tenant
       */
      tenant?: string;
      /** the tenant key's id (the envelope's second signature) */
      tenantKeyId?: string;
    }
  | {
      type: 'image-signature';
      /** Chains short key: first 12 hex of the image digest */
      key: string;
      image: CheckedImage;
      /** cosign simplesigning payload bytes */
      payload: Uint8Array;
      signature: Uint8Array;
      certificatePem?: string;
      chainPem?: string;
      rekorBundle?: string;
      /**
       * the tenant key set that made `signature` (its own `.sig` layer beside the platform's);
       * unset = the platform key. "Already stored" is decided with that signer's keys only.
       */
      signedBy?: string;
    };

export interface StoreRequest {
  run: RunRef;
  artifact: SignedArtifact;
  /** the attempt the store is part of: its deadline aborts the backend's requests; default none */
  context?: AttemptContext;
}

/** One result per backend and artifact: partial failure is explicit. */
export type StoreResult =
  | {
      backend: BackendName;
      ok: true;
      /** where it landed, e.g. `registry/repo:sha256-….att` */
      locations: string[];
      /** things a person should know (e.g. "payload too large for annotations, stored elsewhere") */
      notes?: string[];
      /**
       * Annotations the run must carry (a RunMarker's contribution, run-marker.ts). The attempt
       * writes them with the run's `signed` mark in one patch once every backend has succeeded, so
       * the run is written once per attestation and never claims an attestation that is not
       * stored everywhere (null removes an annotation).
       */
      runAnnotations?: Record<string, string | null>;
    }
  | { backend: BackendName; ok: false; error: ObserverError };

export interface StorageBackend {
  readonly name: BackendName;
  readonly role?: 'store';
  /** Safe to repeat: storing the same artifact twice leaves one copy. Never throws; failures are results. */
  store(request: StoreRequest): Promise<StoreResult>;
}

/** Where a configured storage name sends an artifact: a backend that stores it, or a RunMarker. */
export type Destination = StorageBackend | RunMarker;
