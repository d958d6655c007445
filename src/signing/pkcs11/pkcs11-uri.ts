/**
 * A PKCS#11 URI (RFC 7512) naming one private key in one token, and how to reach it:
 *   pkcs11:token=observer;object=signing-p256?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/var/run/pkcs11/pin
 * Path attributes select the token (`token`, `serial`, `manufacturer`, `model`, `slot-id`) and the
 * key (`object` = CKA_LABEL, `id` = CKA_ID, percent-encoded bytes); `type`, when given, must be
 * `private`. Query attributes: `module-path` (required: we load no default module),
 * `pin-source` (a `file:` path, typically a Secret mounted into the pod; required) and ours,
 * `x-rsa-scheme=pkcs1v15|pss` (RSA only, default pkcs1v15). `pin-value` is refused: a PIN does not
 * belong in a ConfigMap. https://www.rfc-editor.org/rfc/rfc7512
 */
export interface Pkcs11Uri {
  /** the URI as configured, with no PIN in it (pin-value is refused) */
  text: string;
  token?: string;
  serial?: string;
  manufacturer?: string;
  model?: string;
  slotId?: number;
  /** CKA_LABEL of the key */
  object?: string;
  /** CKA_ID of the key, hex (a string: the parsed config is deep-frozen) */
  id?: string;
  modulePath: string;
  /** file holding the user PIN (trailing newline ignored) */
  pinFile: string;
  rsaScheme: 'pkcs1v15' | 'pss';
}

export class Pkcs11UriError extends Error {}

const PATH_ATTRIBUTES = ['token', 'serial', 'manufacturer', 'model', 'slot-id', 'object', 'id', 'type'];
const QUERY_ATTRIBUTES = ['module-path', 'pin-source', 'x-rsa-scheme', 'module-name'];

/** Parses and checks a `pkcs11:` URI; throws Pkcs11UriError naming the attribute at fault. */
export function parsePkcs11Uri(text: string): Pkcs11Uri {
  if (!text.startsWith('pkcs11:')) throw new Pkcs11UriError('not a pkcs11: URI');
  const [path = '', query = ''] = text.slice('pkcs11:'.length).split('?', 2);
  const attrs = attributes(path, ';', PATH_ATTRIBUTES, 'path');
  const params = attributes(query, '&', QUERY_ATTRIBUTES, 'query');
  if (attrs.get('type') !== undefined && attrs.get('type')?.toString() !== 'private')
    throw new Pkcs11UriError('type must be private (the key that signs)');
  if (!attrs.has('object') && !attrs.has('id'))
    throw new Pkcs11UriError('name the key: object=<label> and/or id=<percent-encoded CKA_ID>');
  const modulePath = params.get('module-path')?.toString();
  if (!modulePath) throw new Pkcs11UriError('module-path=<path of the vendor PKCS#11 library> is required');
  const pinSource = params.get('pin-source')?.toString() ?? '';
  if (!pinSource) throw new Pkcs11UriError('pin-source=file:<path of the PIN file> is required');
  const pinFile = pinSource.startsWith('file:') ? pinSource.slice('file:'.length) : pinSource;
  if (!pinFile.startsWith('/')) throw new Pkcs11UriError('pin-source must be an absolute file path');
  const scheme = params.get('x-rsa-scheme')?.toString() ?? 'pkcs1v15';
  if (scheme !== 'pkcs1v15' && scheme !== 'pss')
    throw new Pkcs11UriError(`x-rsa-scheme ${scheme} is not one of pkcs1v15, pss`);
  const slot = attrs.get('slot-id')?.toString();
  if (slot !== undefined && !/^\d+$/.test(slot)) throw new Pkcs11UriError('slot-id must be a decimal number');
  const str = (name: string) => attrs.get(name)?.toString('utf8');
  return strip({
    text,
    token: str('token'),
    serial: str('serial'),
    manufacturer: str('manufacturer'),
    model: str('model'),
    slotId: slot === undefined ? undefined : Number(slot),
    object: str('object'),
    id: attrs.get('id')?.toString('hex'),
    modulePath,
    pinFile,
    rsaScheme: scheme,
  });
}

/** name → percent-decoded bytes; unknown, repeated or PIN-bearing attributes are refused. */
function attributes(part: string, separator: string, known: string[], where: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const item of part.split(separator)) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (name === 'pin-value')
      throw new Pkcs11UriError('pin-value is refused: put the PIN in a file (pin-source=file:…)');
    if (!known.includes(name)) throw new Pkcs11UriError(`unknown ${where} attribute ${name}`);
    if (out.has(name)) throw new Pkcs11UriError(`${name} given twice`);
    out.set(name, percentDecode(eq < 0 ? '' : item.slice(eq + 1), name));
  }
  return out;
}

function percentDecode(value: string, name: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch !== '%') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const hex = value.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Pkcs11UriError(`${name}: bad percent-encoding`);
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes);
}

function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The URI's token and key, for messages (never the PIN, which the URI does not carry). */
export function describeKey(uri: Pkcs11Uri): string {
  const key = [uri.object && `object=${uri.object}`, uri.id && `id=${uri.id}`].filter(Boolean).join(' ');
  return `PKCS#11 key ${key} in token ${uri.token ?? uri.serial ?? `slot ${uri.slotId ?? 'any'}`}`;
}
