import { createRequire } from 'node:module';
import type * as Pkcs11Js from 'pkcs11js';

/**
 * The part of the PKCS#11 binding (pkcs11js, an optional dependency with a native addon) the
 * signer uses. pkcs11js maps each C_ function one to one; its `*Async` variants run the call on
 * libuv's thread pool, so a slow token never blocks the event loop. Errors are `Pkcs11Error`
 * with the CKR_ name as message and the CK_RV as `code`.
 */
export type Pkcs11Api = Pick<
  Pkcs11Js.PKCS11,
  | 'load'
  | 'close'
  | 'C_Initialize'
  | 'C_Finalize'
  | 'C_GetSlotList'
  | 'C_GetTokenInfo'
  | 'C_OpenSession'
  | 'C_CloseSession'
  | 'C_Login'
  | 'C_FindObjectsInit'
  | 'C_FindObjects'
  | 'C_FindObjectsFinal'
  | 'C_GetAttributeValue'
  | 'C_SignInit'
  | 'C_SignAsync'
>;

export type Handle = Buffer;

/** PKCS#11 constants we use (pkcs11t.h); pkcs11js lacks the v3.0 ones (CKK_EC_EDWARDS). */
export const CK = {
  CKF_OS_LOCKING_OK: 0x2,
  CKF_SERIAL_SESSION: 0x4,
  CKF_RW_SESSION: 0x2,
  CKU_USER: 1,
  CKO_PUBLIC_KEY: 2,
  CKO_PRIVATE_KEY: 3,
  CKA_CLASS: 0x0,
  CKA_KEY_TYPE: 0x100,
  CKA_LABEL: 0x3,
  CKA_ID: 0x102,
  CKA_MODULUS: 0x120,
  CKA_PUBLIC_EXPONENT: 0x122,
  CKA_EXTRACTABLE: 0x162,
  CKA_SENSITIVE: 0x103,
  CKA_EC_PARAMS: 0x180,
  CKA_EC_POINT: 0x181,
  CKK_RSA: 0x0,
  CKK_EC: 0x3,
  CKK_EC_EDWARDS: 0x40,
} as const;

/** Thrown when the native binding cannot be loaded (not installed, or built for another Node). */
export class Pkcs11BindingMissing extends Error {}

/**
 * A new binding instance, loaded on first use only (a key-file deployment never loads native
 * code). The image is built with `npm ci --ignore-scripts`, so it carries no compiled addon:
 * there this throws, and the message says how to get one.
 */
export function newPkcs11Api(): Pkcs11Api {
  let binding: typeof Pkcs11Js;
  try {
    binding = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11Js;
  } catch (err) {
    throw new Pkcs11BindingMissing(
      `the PKCS#11 binding pkcs11js is not available (${(err as Error).message.split('\n')[0]}); ` +
        'install it with its native build (npm ci with g++, make and python3 present), see docs/keys.md',
    );
  }
  return new binding.PKCS11();
}

const modules = new Map<string, { api: Pkcs11Api; users: number }>();

/**
 * The module at `path`, loaded and initialised once per process and shared: a PKCS#11 library
 * has one global state per process (a second C_Initialize is CKR_CRYPTOKI_ALREADY_INITIALIZED,
 * and C_Finalize ends every caller's sessions). Initialised with CKF_OS_LOCKING_OK: signatures
 * run on several libuv threads at once, each in its own session.
 */
export function acquireModule(path: string, newApi: () => Pkcs11Api = newPkcs11Api): Pkcs11Api {
  const shared = modules.get(path);
  if (shared) {
    shared.users++;
    return shared.api;
  }
  const api = newApi();
  api.load(path);
  try {
    api.C_Initialize({ flags: CK.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test((err as Error).message)) {
      closeModule(api);
      throw err;
    }
  }
  modules.set(path, { api, users: 1 });
  return api;
}

/**
 * Gives the module back; the last user finalises and unloads it, so the next acquire starts the
 * library afresh (how a token that was unplugged and plugged back in is found again). Never throws.
 */
export function releaseModule(path: string, api: Pkcs11Api): void {
  const shared = modules.get(path);
  if (!shared || shared.api !== api) return;
  if (--shared.users > 0) return;
  modules.delete(path);
  closeModule(api);
}

function closeModule(api: Pkcs11Api): void {
  try {
    api.C_Finalize();
  } catch {
    // already finalised, or the token is gone: nothing left to release
  }
  try {
    api.close();
  } catch {
    // the module was never loaded
  }
}
