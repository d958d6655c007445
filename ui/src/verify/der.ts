/**
 * ECDSA signatures in DSSE (as cosign and Chains write them) are ASN.1 DER
 * `SEQUENCE { r INTEGER, s INTEGER }`; WebCrypto wants IEEE P1363 `r || s`, each left-padded to
 * the curve's size. Returns undefined for anything that is not exactly such a DER value.
 */
export function derToRawEcdsa(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> | undefined {
  let at = 0;
  const byte = () => (at < der.length ? der[at++] : -1);
  const length = (): number => {
    const first = byte();
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n < 1 || n > 2) return -1;
    let len = 0;
    for (let i = 0; i < n; i++) {
      const b = byte();
      if (b < 0) return -1;
      len = len * 256 + b;
    }
    return len;
  };
  if (byte() !== 0x30) return undefined;
  if (length() !== der.length - at) return undefined;
  const out = new Uint8Array(size * 2);
  for (const offset of [0, size]) {
    if (byte() !== 0x02) return undefined;
    const len = length();
    if (len < 1 || at + len > der.length) return undefined;
    let int = der.subarray(at, at + len);
    at += len;
    while (int.length > 1 && int[0] === 0) int = int.subarray(1);
    if (int.length > size) return undefined;
    out.set(int, offset + size - int.length);
  }
  return at === der.length ? out : undefined;
}
