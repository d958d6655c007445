import type { KeyObject } from 'node:crypto';
import { algorithmOf } from '../algorithm.ts';
import type { KeyAlgorithm } from '../signer.ts';
import { CK, type Handle, type Pkcs11Api } from './pkcs11-binding.ts';
import { attribute, findObject, findSlot, readPublicKey } from './pkcs11-key.ts';
import { signPlan } from './pkcs11-mechanism.ts';
import { SessionPool } from './pkcs11-session-pool.ts';
import type { Pkcs11Uri } from './pkcs11-uri.ts';

export interface OpenTokenOptions {
  api: Pkcs11Api;
  uri: Pkcs11Uri;
  pin: string;
  /** sessions to open (the signing workers); fewer are kept when the token allows fewer, at least 1 */
  poolSize: number;
}

/**
 * One opened token: the module loaded and initialised, `poolSize` sessions (logged in as the user
 * through the first: a PKCS#11 login covers every session of the application), the private key's
 * handle and its public key read from the token. Signing leases a session, sends the digest to
 * C_Sign on libuv's thread pool, and returns the signature. Throws the binding's errors.
 */
export class OpenToken {
  readonly publicKey: KeyObject;
  readonly algorithm: KeyAlgorithm;
  /** false when the token says the private key may leave it (CKA_EXTRACTABLE true) */
  readonly nonExtractable: boolean;
  readonly pool: SessionPool;
  readonly #api: Pkcs11Api;
  readonly #key: Handle;
  readonly #modulusBytes: number;

  readonly #sessions: Handle[];

  private constructor(
    api: Pkcs11Api,
    parts: Omit<OpenToken, 'sign' | 'close'> & { key: Handle; modulusBytes: number; sessions: Handle[] },
  ) {
    this.#sessions = parts.sessions;
    this.#api = api;
    this.publicKey = parts.publicKey;
    this.algorithm = parts.algorithm;
    this.nonExtractable = parts.nonExtractable;
    this.pool = parts.pool;
    this.#key = parts.key;
    this.#modulusBytes = parts.modulusBytes;
  }

  /** Opens sessions on an acquired module (acquireModule); on failure closes what it opened. */
  static open(options: OpenTokenOptions): OpenToken {
    const { api, uri } = options;
    const slot = findSlot(api, uri);
    const sessions = openSessions(api, slot, options.poolSize);
    try {
      return OpenToken.#withSessions(options, sessions);
    } catch (err) {
      closeSessions(api, sessions);
      throw err;
    }
  }

  static #withSessions(options: OpenTokenOptions, sessions: Handle[]): OpenToken {
    const { api, uri, pin } = options;
    const first = sessions[0] as Handle;
    try {
      api.C_Login(first, CK.CKU_USER, pin);
    } catch (err) {
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test((err as Error).message)) throw err;
    }
    const key = findObject(api, first, uri, CK.CKO_PRIVATE_KEY);
    if (!key) throw new Error('no private key in the token matches the URI');
    const publicObject = findObject(api, first, uri, CK.CKO_PUBLIC_KEY);
    if (!publicObject) throw new Error('no public key object matches the URI (needed to publish the key)');
    const publicKey = readPublicKey(api, first, publicObject);
    const algorithm = tokenAlgorithm(publicKey, uri);
    const extractable = attribute(api, first, key, CK.CKA_EXTRACTABLE);
    return new OpenToken(api, {
      publicKey,
      algorithm,
      nonExtractable: extractable !== undefined && extractable[0] === 0,
      pool: new SessionPool(sessions),
      sessions,
      key,
      modulusBytes: (publicKey.asymmetricKeyDetails?.modulusLength ?? 4096) / 8,
    });
  }

  /** One signature over `data` (see pkcs11-mechanism.ts for what is sent to the token). */
  sign(data: Uint8Array): Promise<Buffer> {
    const plan = signPlan(this.algorithm, data, this.#modulusBytes);
    return this.pool.with(async (session) => {
      this.#api.C_SignInit(session, plan.mechanism as Parameters<Pkcs11Api['C_SignInit']>[1], this.#key);
      const raw = await this.#api.C_SignAsync(session, plan.input, Buffer.alloc(plan.maxLength));
      return plan.finish(raw);
    });
  }

  /** Closes this token's sessions (the caller releases the module); never throws. */
  close(reason: Error): void {
    this.pool.close(reason);
    closeSessions(this.#api, this.#sessions);
  }
}

function closeSessions(api: Pkcs11Api, sessions: Handle[]): void {
  for (const session of sessions) {
    try {
      api.C_CloseSession(session);
    } catch {
      // the token is gone or the session already closed
    }
  }
}

function openSessions(api: Pkcs11Api, slot: Handle, size: number): Handle[] {
  const sessions: Handle[] = [];
  const flags = CK.CKF_SERIAL_SESSION;
  for (let i = 0; i < Math.max(1, size); i++) {
    try {
      sessions.push(api.C_OpenSession(slot, flags));
    } catch (err) {
      // CKR_SESSION_COUNT: the token allows fewer; work with what it gave
      if (sessions.length === 0 || !/CKR_SESSION_COUNT/.test((err as Error).message)) throw err;
      break;
    }
  }
  return sessions;
}

function tokenAlgorithm(publicKey: KeyObject, uri: Pkcs11Uri): KeyAlgorithm {
  const algorithm = algorithmOf(publicKey, 'cosign-default');
  if (typeof algorithm !== 'string') throw new Error(algorithm.unsupported);
  if (algorithm === 'rsa-pkcs1v15-sha256' && uri.rsaScheme === 'pss') return 'rsa-pss-sha256';
  return algorithm;
}
