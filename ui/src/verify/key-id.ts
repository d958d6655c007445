import { base64ToBytes, bytesToBase64, concatBytes, utf8 } from './bytes.ts';

/**
 * The key id the observer publishes, recomputed here from the key itself so a key list cannot
 * name a key falsely: "SHA256:" + unpadded base64 of SHA-256 over the SSH wire encoding of the
 * public key (src/signing/key-id.ts; what `ssh-keygen -lf` prints).
 */
export async function keyIdOfJwk(jwk: Jwk): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', sshWireEncoding(jwk));
  return `SHA256:${bytesToBase64(new Uint8Array(digest)).replace(/=+$/, '')}`;
}

/** The fields of a public JWK used here (typed locally: the same code type-checks under DOM and Node). */
export interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  e?: string;
  n?: string;
}

const CURVES: Record<string, { name: string; size: number }> = {
  'P-256': { name: 'nistp256', size: 32 },
  'P-384': { name: 'nistp384', size: 48 },
  'P-521': { name: 'nistp521', size: 66 },
};

function sshWireEncoding(jwk: Jwk): Uint8Array<ArrayBuffer> {
  const b = (v: string | undefined) => base64ToBytes(v ?? '');
  if (jwk.kty === 'EC') {
    const curve = CURVES[jwk.crv ?? ''];
    if (!curve) throw new Error(`no SSH encoding for curve ${jwk.crv}`);
    const point = concatBytes([new Uint8Array([4]), pad(b(jwk.x), curve.size), pad(b(jwk.y), curve.size)]);
    return concatBytes([str(utf8(`ecdsa-sha2-${curve.name}`)), str(utf8(curve.name)), str(point)]);
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519')
    return concatBytes([str(utf8('ssh-ed25519')), str(b(jwk.x))]);
  if (jwk.kty === 'RSA') return concatBytes([str(utf8('ssh-rsa')), mpint(b(jwk.e)), mpint(b(jwk.n))]);
  throw new Error(`no SSH encoding for key type ${jwk.kty}`);
}

function pad(bytes: Uint8Array, size: number): Uint8Array {
  return bytes.length >= size ? bytes : concatBytes([new Uint8Array(size - bytes.length), bytes]);
}

function str(bytes: Uint8Array): Uint8Array {
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, bytes.length);
  return concatBytes([len, bytes]);
}

function mpint(unsigned: Uint8Array): Uint8Array {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  return str(trimmed.length > 0 && trimmed[0] & 0x80 ? concatBytes([new Uint8Array([0]), trimmed]) : trimmed);
}
