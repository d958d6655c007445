import { createPublicKey } from 'node:crypto';
import type { Provenance } from '../formats/index.ts';
import type { AttemptContext } from '../model/index.ts';
import { sha256Digest } from '../oci/index.ts';
import { adoptedImages, type CheckedImage } from '../policy/index.ts';
import type { AttestationFound, ImageRef, PayloadIdentity, SignatureVerifier } from '../storage/index.ts';
import { type RunRef, runShortKey, type TektonRun } from '../tekton/index.ts';
import { verifySignature } from '../verify/index.ts';
import type { AttestOutcome } from './attestor.ts';
import {
  type ChainsAdopted,
  type ChainsRefusal,
  type ChainsTrust,
  verifyChainsAnnotations,
} from './chains-adoption.ts';
import type { Stored } from './store-signed.ts';

/** Reads an image's `.att` for an envelope (storage's findAttestation with the run's credentials). */
export type AttestationLookup = (
  run: RunRef,
  image: ImageRef,
  want: PayloadIdentity,
  verifies: SignatureVerifier,
  context?: AttemptContext,
) => Promise<AttestationFound>;

export interface ChainsAdopterOptions {
  /** Chains' public keys and cut-over as configured now; undefined or no keys: adoption is off */
  trust: () => Promise<ChainsTrust | undefined>;
  /** where `.att` layers are looked up; without it only the annotations are verified */
  attestations?: AttestationLookup;
}

/**
 * What adopting a run Tekton Chains signed came to. `off`: no Chains key configured (the run is
 * handled as before adoption existed). `refused`: the reason, `after_cut_over` being the only one
 * that is not tamper; `att_lacks_envelope`: an `.att` of a subject holds no layer with Chains'
 * envelope.
 */
export type ChainsVerdict =
  | { kind: 'off' }
  | { kind: 'adopted'; keyId: string; outcome: AttestOutcome }
  | { kind: 'refused'; reason: ChainsRefusal | 'att_lacks_envelope' };

/**
 * Adopts what Tekton Chains signed (docs/migrating-from-chains.md): a run that carries Chains'
 * envelope annotations verified with Chains' key (verifyChainsAnnotations), whose image subjects'
 * `.att` tags, where they exist, hold that same envelope signed by that key. The outcome is what
 * the index records (origin `chains`, the key that verified it, where Chains stored it); nothing
 * is signed or stored, so no layer is added.
 */
export class ChainsAdopter {
  readonly #o: ChainsAdopterOptions;

  constructor(options: ChainsAdopterOptions) {
    this.#o = options;
  }

  async adopt(
    run: RunRef,
    object: TektonRun,
    completedAt: number | undefined,
    context?: AttemptContext,
  ): Promise<ChainsVerdict> {
    const trust = await this.#o.trust();
    if (!trust || trust.publicKeysPem.length === 0) return { kind: 'off' };
    const annotations = object.metadata?.annotations ?? {};
    const verdict = verifyChainsAnnotations(
      {
        kind: run.kind,
        uid: run.uid,
        namespace: run.namespace,
        ...(completedAt !== undefined ? { completedAt } : {}),
      },
      annotations,
      trust,
    );
    if (!verdict.adopted) return { kind: 'refused', reason: verdict.reason };
    const images = imageSubjects(verdict);
    const found = await this.#lookUp(run, verdict, images, context);
    if (found.some((f) => f.found === 'lacks')) return { kind: 'refused', reason: 'att_lacks_envelope' };
    const locations = found.flatMap((f) => (f.found === 'holds' ? [f.location] : []));
    return {
      kind: 'adopted',
      keyId: verdict.keyId,
      outcome: adoptedOutcome(run, verdict, images, locations),
    };
  }

  async #lookUp(
    run: RunRef,
    verdict: ChainsAdopted,
    images: CheckedImage[],
    context: AttemptContext | undefined,
  ): Promise<AttestationFound[]> {
    const lookup = this.#o.attestations;
    if (!lookup) return [];
    const key = createPublicKey(verdict.keyPem);
    const verifies: SignatureVerifier = (message, signature) => verifySignature(message, signature, key);
    const want = {
      payloadDigest: sha256Digest(verdict.payload),
      payloadBytes: verdict.payload.length,
      payloadType: verdict.envelope.payloadType,
      foreignWriter: true as const,
    };
    return Promise.all(images.map((image) => lookup(run, image, want, verifies, context)));
  }
}

/** The statement's subjects that name an image by sha256 digest (what Chains' `oci` storage attaches to). */
function imageSubjects(verdict: ChainsAdopted): CheckedImage[] {
  return adoptedImages(
    verdict.subjects.flatMap((s) => {
      const hex = s?.digest?.sha256;
      return typeof s?.name === 'string' && typeof hex === 'string' && /^[0-9a-f]{64}$/.test(hex)
        ? [{ name: s.name, digest: `sha256:${hex}` }]
        : [];
    }),
  );
}

/** The attempt's outcome for the index: Chains' envelope, on the run (tekton) and in the `.att` found. */
function adoptedOutcome(
  run: RunRef,
  verdict: ChainsAdopted,
  images: CheckedImage[],
  locations: string[],
): AttestOutcome {
  const artifact = {
    type: 'provenance' as const,
    key: runShortKey(run.kind, run.uid),
    predicateType: verdict.predicateType,
    payload: verdict.payload,
    envelope: verdict.envelope,
    envelopeBytes: verdict.envelopeBytes,
    images,
    keyId: verdict.keyId,
  };
  const results: Stored[] = [
    {
      artifact,
      result: { backend: 'tekton', ok: true, locations: [`${run.kind}/${run.namespace}/${run.name}`] },
    },
    ...(locations.length > 0
      ? [{ artifact, result: { backend: 'oci' as const, ok: true as const, locations } }]
      : []),
  ];
  // Chains' statement as signed (it parsed in verifyChainsAnnotations); the index reads its subjects
  const statement = JSON.parse(Buffer.from(verdict.payload).toString('utf8')) as Provenance['statement'];
  return {
    provenance: { artifact, statement },
    results,
    skipped: [],
    ok: true,
    adopted: true,
    origin: 'chains',
  };
}
