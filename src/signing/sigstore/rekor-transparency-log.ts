import { createHash } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { InternalError, RekorWitness, type SignatureBundle } from '@sigstore/sign';
import { ObserverError } from '../../errors.ts';
import type { DsseEnvelope, SignatureResult, Signer } from '../signer.ts';
import { logEntryOf } from './rekor-entry.ts';
import { findRekorEnvelope } from './rekor-lookup.ts';
import type { FoundEnvelope, TransparencyEntry, TransparencyLog } from './transparency-log.ts';

export interface RekorTransparencyLogOptions {
  /** Rekor base URL (Chains `transparency.url`, default https://rekor.sigstore.dev) */
  url: string;
  timeoutMs?: number;
  retry?: number;
}

/**
 * Uploads to a Rekor v1 log through @sigstore/sign's RekorWitness (which holds the HTTP client).
 * The verifier recorded is the certificate when the signature has one, else the public key, as
 * cosign does. Fails with ObserverError 'tlog' (retryable), naming the log URL.
 */
export class RekorTransparencyLog implements TransparencyLog {
  readonly #url: string;
  readonly #witness: RekorWitness;
  readonly #timeoutMs: number | undefined;

  constructor(options: RekorTransparencyLogOptions) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
    this.#witness = new RekorWitness({
      rekorBaseURL: this.#url,
      entryType: 'dsse',
      majorApiVersion: 1,
      fetchOnConflict: true,
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
    });
  }

  uploadEnvelope(
    envelope: DsseEnvelope,
    signature: Pick<SignatureResult, 'signature' | 'certificatePem'>,
    publicKeyPem: string,
  ): Promise<TransparencyEntry> {
    const content: SignatureBundle = {
      $case: 'dsseEnvelope',
      dsseEnvelope: {
        payloadType: envelope.payloadType,
        payload: Buffer.from(envelope.payload, 'base64'),
        signatures: envelope.signatures.map((s) => ({
          keyid: s.keyid ?? '',
          sig: Buffer.from(s.sig, 'base64'),
        })),
      },
    };
    return this.#testify(content, signature.certificatePem ?? publicKeyPem);
  }

  uploadSignature(
    payload: Uint8Array,
    signature: Pick<SignatureResult, 'signature' | 'certificatePem'>,
    publicKeyPem: string,
  ): Promise<TransparencyEntry> {
    const content: SignatureBundle = {
      $case: 'messageSignature',
      messageSignature: {
        // HashAlgorithm.SHA2_256 in @sigstore/protobuf-specs
        messageDigest: { algorithm: 1, digest: createHash('sha256').update(payload).digest() },
        signature: Buffer.from(signature.signature),
      },
    };
    return this.#testify(content, signature.certificatePem ?? publicKeyPem);
  }

  findEnvelope(
    payload: Uint8Array,
    payloadType: string,
    key: Pick<Signer, 'publicKeyPem' | 'algorithm'>,
  ): Promise<FoundEnvelope | undefined> {
    return findRekorEnvelope({ url: this.#url, timeoutMs: this.#timeoutMs }, payload, payloadType, key);
  }

  async #testify(content: SignatureBundle, verifier: string): Promise<TransparencyEntry> {
    let entry: TransparencyLogEntry | undefined;
    try {
      entry = (await this.#witness.testify(content, verifier)).tlogEntries[0];
    } catch (err) {
      const code = err instanceof InternalError ? err.code : 'UNKNOWN';
      throw new ObserverError(`uploading to transparency log ${this.#url}: ${code}`, {
        code: 'tlog',
        retryable: true,
      });
    }
    if (!entry) {
      throw new ObserverError(`uploading to transparency log ${this.#url}: no entry returned`, {
        code: 'tlog',
        retryable: true,
      });
    }
    return logEntryOf(this.#url, entry);
  }
}
