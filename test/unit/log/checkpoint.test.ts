import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  assembleNote,
  checkpointText,
  noteKeyOf,
  openNote,
  parseCheckpoint,
  signatureLine,
} from '../../../src/log/index.ts';

const PY_VERIFY = `
import base64, hashlib, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
note, pem, name = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
text, sigs = note.rsplit("\\n\\n", 1)
text += "\\n"
key = serialization.load_pem_public_key(pem)
for line in sigs.strip("\\n").split("\\n"):
    dash, n, b = line.split(" ")
    blob = base64.b64decode(b)
    if n != name: continue
    if isinstance(key, ec.EllipticCurvePublicKey):
        spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert blob[:4] == hashlib.sha256(spki).digest()[:4], "key id"
        key.verify(blob[4:], text.encode(), ec.ECDSA(hashes.SHA256()))
    else:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert blob[:4] == hashlib.sha256(name.encode() + b"\\n\\x01" + raw).digest()[:4], "key id"
        key.verify(blob[4:], text.encode())
    print("ok")
`;

describe('checkpoints as C2SP signed notes', () => {
  const body = checkpointText({
    origin: 'observer.example/log',
    size: 42,
    rootHash: Buffer.alloc(32, 7),
    extensions: ['time 2026-12-05T05:00:00Z'],
  });

  it('writes the three lines and an extension, and reads them back', () => {
    expect(body).toBe(
      `observer.example/log\n42\n${Buffer.alloc(32, 7).toString('base64')}\ntime 2026-12-05T05:00:00Z\n`,
    );
    const parsed = parseCheckpoint(body);
    expect(parsed).toMatchObject({ origin: 'observer.example/log', size: 42 });
    expect(parseCheckpoint('x\n01\nAAAA\n')).toEqual({ error: expect.stringMatching(/decimal/) });
    expect(parseCheckpoint('x\n1\nAAAA\n')).toEqual({ error: expect.stringMatching(/32 bytes/) });
  });

  for (const type of ['ed25519', 'ec'] as const) {
    it(`signs with a ${type} key; python3-cryptography verifies; a changed byte fails`, () => {
      const pair =
        type === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const key = noteKeyOf('observer.example/log', pem);
      const sig = sign(type === 'ed25519' ? null : 'sha256', Buffer.from(body), pair.privateKey);
      const note = assembleNote(body, [signatureLine(key, sig)]);
      expect(openNote(note, [key])).toEqual({ text: body });
      expect(execFileSync('python3', ['-c', PY_VERIFY, note, pem, key.name]).toString()).toBe('ok\n');
      expect(openNote(note.replace('\n42\n', '\n43\n'), [key])).toEqual({
        error: expect.stringMatching(/does not verify/),
      });
      const other = noteKeyOf('someone.else/log', pem);
      expect(openNote(note, [other])).toEqual({ error: 'no signature by a known key' });
    });
  }

  it('refuses an RSA key with a reason', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => noteKeyOf('x', publicKey.export({ type: 'spki', format: 'pem' }).toString())).toThrow(
      /Ed25519 or ECDSA P-256/,
    );
  });
});
