import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Verifies a DSSE envelope with the openssl CLI, building the pre-authentication encoding in the
 * shell (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md), so none of our signing code takes part. Returns openssl's
 * verdict: true for "Verified OK" / "Signature Verified Successfully".
 */
export function opensslVerifiesEnvelope(envelopeJson: string | Uint8Array, publicKeyPem: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'dsse-openssl-'));
  writeFileSync(join(dir, 'envelope.json'), envelopeJson);
  writeFileSync(join(dir, 'key.pub'), publicKeyPem);
  try {
    const out = execFileSync(
      'sh',
      ['-c', SCRIPT, 'verify-envelope', join(dir, 'envelope.json'), join(dir, 'key.pub')],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return /Verified OK|Signature Verified Successfully/.test(out);
  } catch {
    return false;
  }
}

const SCRIPT = `set -eu
ENV=$1; PUB=$2; T=$(mktemp -d)
jq -r .payloadType "$ENV" | tr -d '\\n' > "$T/type"
jq -r .payload "$ENV" | base64 -d > "$T/body"
jq -r '.signatures[0].sig' "$ENV" | base64 -d > "$T/sig"
{ printf 'DSSEv1 %d ' "$(wc -c < "$T/type")"; cat "$T/type"; printf ' %d ' "$(wc -c < "$T/body")"; cat "$T/body"; } > "$T/pae"
if openssl pkey -pubin -in "$PUB" -noout -text 2>/dev/null | grep -q ED25519; then
  openssl pkeyutl -verify -pubin -inkey "$PUB" -rawin -in "$T/pae" -sigfile "$T/sig"
else
  openssl dgst -sha256 -verify "$PUB" -signature "$T/sig" "$T/pae"
fi`;
