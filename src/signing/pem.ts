/** One PEM block: its label and DER body. */
export interface PemBlock {
  label: string;
  der: Buffer;
  /** the block's text exactly as it appeared, normalised to end with a newline */
  text: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * Every PEM block in the text, in order (RFC 7468, lax: headers such as `Proc-Type` are not
 * supported). Text outside blocks is ignored, as Go's pem.Decode does.
 */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1] ?? '';
    const body = (m[2] ?? '').replace(/\s+/g, '');
    blocks.push({ label, der: Buffer.from(body, 'base64'), text: `${m[0]}\n` });
  }
  return blocks;
}
