import { createPublicKey, verify } from 'node:crypto';
import { ObserverError } from '../../errors.ts';
import { schemeParams } from '../algorithm.ts';
import { keyIdOf } from '../key-id.ts';
import type { KeyAlgorithm, SignatureResult, Signer } from '../signer.ts';
import { acquireModule, type Pkcs11Api, releaseModule } from './pkcs11-binding.ts';
import { OpenToken } from './pkcs11-token.ts';
import { describeKey, type Pkcs11Uri } from './pkcs11-uri.ts';

export interface Pkcs11KeyOptions {
  uri: Pkcs11Uri;
  /** sessions to keep open: the number of workers that may sign at once */
  poolSize: number;
  /** reads the PIN file (a mounted Secret, re-read at every open so a changed PIN is picked up) */
  readFile: (path: string) => Promise<Uint8Array>;
  /** a fresh binding instance when the module is first loaded; default pkcs11js */
  newApi?: () => Pkcs11Api;
  /** told of every failure (the metric): which step, and the CKR_ code or reason */
  onError?: (step: Pkcs11Step, reason: string) => void;
  /** told of every successful open (the metric goes back to ready) */
  onOpened?: () => void;
}

/** Where a token failure happened: opening it (or the module), a signature, the PIN file. */
export type Pkcs11Step = 'open' | 'sign' | 'pin';

/** What an opened token publishes about its key. */
export interface Pkcs11KeyInfo {
  keyId: string;
  algorithm: KeyAlgorithm;
  publicKeyPem: string;
  nonExtractable: boolean;
}

/**
 * A key inside a PKCS#11 token, kept reachable: opened on first use, and re-opened (module
 * finalised and loaded again, fresh sessions, login again) after any failure, because after a
 * token is unplugged or the module loses its sessions no handle can be trusted. Opens are
 * single-flight. Every failure is an ObserverError `key_unavailable`, retryable, naming the key and
 * the CKR_ code, never the PIN. The private key never leaves the token: only digests go in.
 */
export class Pkcs11Key {
  readonly #o: Pkcs11KeyOptions;
  #token: OpenToken | undefined;
  #api: Pkcs11Api | undefined;
  #info: Pkcs11KeyInfo | undefined;
  #opening: Promise<OpenToken> | undefined;
  #lastError: string | undefined;

  constructor(options: Pkcs11KeyOptions) {
    this.#o = options;
  }

  /** the key as last opened (undefined before the first successful open) */
  get info(): Pkcs11KeyInfo | undefined {
    return this.#info;
  }

  /** why the last open or signature failed; undefined while the token works */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  describe(): string {
    return describeKey(this.#o.uri);
  }

  /** Opens the token if it is not open; throws key_unavailable when it cannot. */
  async open(): Promise<Pkcs11KeyInfo> {
    await (this.#token ?? this.#openOnce());
    return this.#info as Pkcs11KeyInfo;
  }

  async sign(data: Uint8Array): Promise<{ signature: Uint8Array; info: Pkcs11KeyInfo }> {
    const token = this.#token ?? (await this.#openOnce());
    const info = this.#info as Pkcs11KeyInfo;
    try {
      const signature = await token.sign(data);
      return { signature, info };
    } catch (err) {
      throw this.#failed(err, 'sign', token);
    }
  }

  /** Closes the token's sessions and releases the module (shutdown). */
  close(): void {
    this.#drop(new Error('closed'));
  }

  #drop(reason: Error): void {
    this.#token?.close(reason);
    this.#token = undefined;
    if (this.#api) releaseModule(this.#o.uri.modulePath, this.#api);
    this.#api = undefined;
  }

  #openOnce(): Promise<OpenToken> {
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<OpenToken> {
    const { uri, poolSize } = this.#o;
    let pin: string;
    try {
      pin = Buffer.from(await this.#o.readFile(uri.pinFile))
        .toString('utf8')
        .replace(/\r?\n$/, '');
    } catch (err) {
      throw this.#failed(err, 'pin');
    }
    let token: OpenToken | undefined;
    try {
      this.#api ??= acquireModule(uri.modulePath, this.#o.newApi);
      token = OpenToken.open({ api: this.#api, uri, pin, poolSize });
      const info = infoOf(token);
      await selfTest(token, info);
      this.#token = token;
      this.#info = info;
      this.#lastError = undefined;
      this.#o.onOpened?.();
      return token;
    } catch (err) {
      token?.close(err as Error);
      // the last user of the module finalises it: the next open starts the library afresh
      this.#drop(err as Error);
      throw this.#failed(err, 'open');
    }
  }

  /** Records the failure, drops the token when it is the current one, and returns the error to throw. */
  #failed(err: unknown, step: Pkcs11Step, token?: OpenToken): ObserverError {
    const reason = `${STEP_NAMES[step]}: ${errorName(err)}`;
    this.#lastError = reason;
    const error = new ObserverError(`${this.describe()}: ${reason}`, {
      code: 'key_unavailable',
      retryable: true,
      cause: err,
    });
    if (token && token === this.#token) this.#drop(error);
    this.#o.onError?.(step, reason);
    return error;
  }
}

const STEP_NAMES: Record<Pkcs11Step, string> = {
  open: 'opening the token',
  sign: 'C_Sign',
  pin: 'reading the PIN file',
};

/** The CKR_ name for PKCS#11 errors, else the first line of the message (never a PIN: we never put one in). */
function errorName(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /CKR_[A-Z_]+/.exec(message)?.[0] ?? message.split('\n')[0] ?? 'unknown error';
}

function infoOf(token: OpenToken): Pkcs11KeyInfo {
  return {
    keyId: keyIdOf(token.publicKey),
    algorithm: token.algorithm,
    publicKeyPem: token.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    nonExtractable: token.nonExtractable,
  };
}

/** One signature verified with the token's public key: the key pair and the mechanism work. */
async function selfTest(token: OpenToken, info: Pkcs11KeyInfo): Promise<void> {
  const probe = Buffer.from('provenance-observer PKCS#11 self-test', 'utf8');
  const signature = await token.sign(probe);
  const key = createPublicKey(info.publicKeyPem);
  const digest = schemeParams(info.algorithm).digest;
  const ok =
    info.algorithm === 'rsa-pss-sha256'
      ? verify(digest, probe, { key, padding: 6, saltLength: 32 }, signature)
      : verify(digest, probe, key, signature);
  if (!ok) throw new Error('self-test signature does not verify with the public key object');
}

/**
 * The Signer over a token key. `keyId`, `algorithm` and `publicKeyPem` are the key's as opened
 * first; each SignatureResult names the key that really signed (the same one unless the token's
 * object was replaced under the same label, which the source notices and swaps signers for).
 */
export class Pkcs11Signer implements Signer {
  readonly keyId: string;
  readonly algorithm: KeyAlgorithm;
  readonly publicKeyPem: string;
  readonly #key: Pkcs11Key;

  constructor(key: Pkcs11Key, info: Pkcs11KeyInfo) {
    this.#key = key;
    this.keyId = info.keyId;
    this.algorithm = info.algorithm;
    this.publicKeyPem = info.publicKeyPem;
  }

  async sign(data: Uint8Array): Promise<SignatureResult> {
    const { signature, info } = await this.#key.sign(data);
    return { signature: new Uint8Array(signature), keyId: info.keyId, publicKeyPem: info.publicKeyPem };
  }
}
