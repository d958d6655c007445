import { createPublicKey, type KeyObject } from 'node:crypto';
import { CK, type Handle, type Pkcs11Api } from './pkcs11-binding.ts';
import type { Pkcs11Uri } from './pkcs11-uri.ts';

/** The slot whose token matches the URI's token attributes; throws naming what was looked for. */
export function findSlot(api: Pkcs11Api, uri: Pkcs11Uri): Handle {
  const slots = api.C_GetSlotList(true);
  for (const slot of slots) {
    if (uri.slotId !== undefined && slot.readUIntLE(0, Math.min(slot.length, 6)) !== uri.slotId) continue;
    const info = api.C_GetTokenInfo(slot);
    if (uri.token !== undefined && info.label.trim() !== uri.token) continue;
    if (uri.serial !== undefined && info.serialNumber.trim() !== uri.serial) continue;
    if (uri.manufacturer !== undefined && info.manufacturerID.trim() !== uri.manufacturer) continue;
    if (uri.model !== undefined && info.model.trim() !== uri.model) continue;
    return slot;
  }
  throw new Error(`no token present matching the URI (${slots.length} token(s) present)`);
}

/** The one object of `objectClass` the URI names (by CKA_LABEL and/or CKA_ID), if any. */
export function findObject(
  api: Pkcs11Api,
  session: Handle,
  uri: Pkcs11Uri,
  objectClass: number,
): Handle | undefined {
  const template: { type: number; value: number | string | Buffer }[] = [
    { type: CK.CKA_CLASS, value: objectClass },
  ];
  if (uri.object !== undefined) template.push({ type: CK.CKA_LABEL, value: uri.object });
  if (uri.id !== undefined) template.push({ type: CK.CKA_ID, value: Buffer.from(uri.id, 'hex') });
  api.C_FindObjectsInit(session, template);
  try {
    const found = api.C_FindObjects(session, 2);
    if (found.length > 1) throw new Error('the URI matches more than one key: add id= or a longer label');
    return found[0];
  } finally {
    api.C_FindObjectsFinal(session);
  }
}

/** Reads one attribute's bytes (undefined when the token does not have it for this object). */
export function attribute(api: Pkcs11Api, session: Handle, object: Handle, type: number): Buffer | undefined {
  try {
    const [attr] = api.C_GetAttributeValue(session, object, [{ type }]);
    return attr?.value instanceof Buffer && attr.value.length > 0 ? attr.value : undefined;
  } catch {
    return undefined;
  }
}

const CURVES: Record<string, { crv: 'P-256' | 'P-384' | 'P-521'; size: number }> = {
  '06082a8648ce3d030107': { crv: 'P-256', size: 32 },
  '06052b81040022': { crv: 'P-384', size: 48 },
  '06052b81040023': { crv: 'P-521', size: 66 },
};
/** CKA_EC_PARAMS of Ed25519: the OID 1.3.101.112, or the PrintableString "edwards25519" (SoftHSM2). */
const ED25519_PARAMS = ['06032b6570', '130c656477617264733235353139'];

/**
 * The public half of the key, from the matching CKO_PUBLIC_KEY object (same label/id):
 * EC from CKA_EC_PARAMS + CKA_EC_POINT, RSA from CKA_MODULUS + CKA_PUBLIC_EXPONENT, Ed25519
 * from CKA_EC_POINT. Throws naming what is missing or unsupported.
 */
export function readPublicKey(api: Pkcs11Api, session: Handle, publicObject: Handle): KeyObject {
  const get = (type: number) => attribute(api, session, publicObject, type);
  const keyType = get(CK.CKA_KEY_TYPE)?.readUIntLE(0, 4);
  if (keyType === CK.CKK_RSA) {
    const n = get(CK.CKA_MODULUS);
    const e = get(CK.CKA_PUBLIC_EXPONENT);
    if (!n || !e) throw new Error('RSA public key without modulus or exponent');
    return createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' });
  }
  const params = get(CK.CKA_EC_PARAMS)?.toString('hex') ?? '';
  const point = unwrapOctetString(get(CK.CKA_EC_POINT));
  if (!point) throw new Error('public key without CKA_EC_POINT');
  if (keyType === CK.CKK_EC_EDWARDS || ED25519_PARAMS.includes(params)) {
    if (!ED25519_PARAMS.includes(params)) throw new Error('EdDSA key on a curve other than Ed25519');
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(point) }, format: 'jwk' });
  }
  const curve = CURVES[params];
  if (keyType !== CK.CKK_EC || !curve) throw new Error(`unsupported key type ${keyType} / curve ${params}`);
  if (point[0] !== 4 || point.length !== 1 + 2 * curve.size) throw new Error('EC point is not uncompressed');
  const x = point.subarray(1, 1 + curve.size);
  const y = point.subarray(1 + curve.size);
  return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: b64u(x), y: b64u(y) }, format: 'jwk' });
}

/** CKA_EC_POINT is a DER OCTET STRING around the point (most tokens) or the bare point (some). */
function unwrapOctetString(value: Buffer | undefined): Buffer | undefined {
  if (value?.[0] !== 0x04) return value;
  let offset = 2;
  let length = value[1] ?? 0;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = value.readUIntBE(2, bytes);
    offset = 2 + bytes;
  }
  // an uncompressed EC point also starts with 0x04: only unwrap when the length matches exactly
  return offset + length === value.length ? value.subarray(offset) : value;
}

function b64u(bytes: Buffer): string {
  return bytes.toString('base64url');
}
