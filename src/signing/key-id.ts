import { createHash, type KeyObject } from 'node:crypto';

/**
 * Chains' key id: Go's `ssh.FingerprintSHA256(ssh.NewPublicKey(pub))`, i.e. "SHA256:" + unpadded
 * standard base64 of sha256 over the SSH wire encoding of the public key (RFC 4253 §6.6,
 * RFC 5656 §3.1 for ECDSA, RFC 8709 for Ed25519). Same string `ssh-keygen -lf` prints.
 * Throws for key types SSH has no encoding for; callers only pass supported keys.
 */
export function keyIdOf(publicKey: KeyObject): string {
  const digest = createHash('sha256').update(sshWireEncoding(publicKey)).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

const SSH_CURVES: Record<string, { name: string; size: number }> = {
  'P-256': { name: 'nistp256', size: 32 },
  'P-384': { name: 'nistp384', size: 48 },
  'P-521': { name: 'nistp521', size: 66 },
};

/** The SSH public key blob (what follows the type name, base64-decoded, in authorized_keys). */
export function sshWireEncoding(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  switch (publicKey.asymmetricKeyType) {
    case 'ec': {
      const curve = SSH_CURVES[jwk.crv ?? ''];
      if (!curve) throw new Error(`no SSH encoding for curve ${jwk.crv}`);
      const point = Buffer.concat([
        Buffer.from([4]),
        leftPad(b64u(jwk.x), curve.size),
        leftPad(b64u(jwk.y), curve.size),
      ]);
      return Buffer.concat([sshString(`ecdsa-sha2-${curve.name}`), sshString(curve.name), sshString(point)]);
    }
    case 'ed25519':
      return Buffer.concat([sshString('ssh-ed25519'), sshString(b64u(jwk.x))]);
    case 'rsa':
      return Buffer.concat([sshString('ssh-rsa'), sshMpint(b64u(jwk.e)), sshMpint(b64u(jwk.n))]);
    default:
      throw new Error(`no SSH encoding for key type ${publicKey.asymmetricKeyType}`);
  }
}

function b64u(value: string | undefined): Buffer {
  return Buffer.from(value ?? '', 'base64url');
}

function leftPad(bytes: Buffer, size: number): Buffer {
  return bytes.length >= size ? bytes : Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** RFC 4251 §5 mpint of a non-negative big-endian integer: minimal, with a 0x00 if the top bit is set. */
function sshMpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  const needsPad = trimmed.length > 0 && (trimmed[0] ?? 0) & 0x80;
  return sshString(needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}
