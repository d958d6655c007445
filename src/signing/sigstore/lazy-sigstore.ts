import type { SignatureResult, Signer } from '../signer.ts';
import type { KeylessSignerOptions } from './keyless-signer.ts';
import { findRekorEnvelope } from './rekor-lookup.ts';
import type { RekorTransparencyLogOptions } from './rekor-transparency-log.ts';
import type { FoundEnvelope, TransparencyEntry, TransparencyLog } from './transparency-log.ts';

/**
 * The keyless signer and the Rekor log, loading @sigstore/sign (about 30 MB resident, measured with
 * `node -e "import('@sigstore/sign')"`) on first use only: most installations sign with a key and
 * never upload, and should not carry it.
 */
export class LazyKeylessSigner implements Signer {
  readonly algorithm = 'ecdsa-p256-sha256' as const;
  readonly keyId = '';
  readonly publicKeyPem = '';
  readonly #options: KeylessSignerOptions;
  #signer?: Promise<Signer>;

  constructor(options: KeylessSignerOptions) {
    this.#options = options;
  }

  async sign(data: Uint8Array): Promise<SignatureResult> {
    this.#signer ??= import('./keyless-signer.ts').then((m) => new m.KeylessSigner(this.#options));
    return (await this.#signer).sign(data);
  }
}

export class LazyTransparencyLog implements TransparencyLog {
  readonly #options: RekorTransparencyLogOptions;
  #log?: Promise<TransparencyLog>;

  constructor(options: RekorTransparencyLogOptions) {
    this.#options = options;
  }

  async uploadEnvelope(...args: Parameters<TransparencyLog['uploadEnvelope']>): Promise<TransparencyEntry> {
    return (await this.#get()).uploadEnvelope(...args);
  }

  async uploadSignature(...args: Parameters<TransparencyLog['uploadSignature']>): Promise<TransparencyEntry> {
    return (await this.#get()).uploadSignature(...args);
  }

  /** plain fetch (rekor-lookup.ts): looking up loads nothing of @sigstore/sign */
  findEnvelope(...args: Parameters<TransparencyLog['findEnvelope']>): Promise<FoundEnvelope | undefined> {
    return findRekorEnvelope(this.#options, ...args);
  }

  #get(): Promise<TransparencyLog> {
    this.#log ??= import('./rekor-transparency-log.ts').then(
      (m) => new m.RekorTransparencyLog(this.#options),
    );
    return this.#log;
  }
}
