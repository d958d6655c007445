/**
 * Canonical JSON: object keys sorted recursively (by UTF-16 code units, as Array.prototype.sort),
 * no whitespace, properties whose value is `undefined` omitted (as JSON.stringify does), strings
 * escaped as JSON.stringify escapes them. Equal values give equal text, so the signed payload is
 * byte-identical for the same run. Throws TypeError on values JSON cannot hold (bigint, cycles).
 */
export function canonicalJson(value: unknown): string {
  return encode(value, false);
}

/** UTF-8 bytes of canonicalJson: the DSSE payload. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

/**
 * Go `json.Marshal` of a Tekton ParamValue or other plain data: map keys sorted, no whitespace, and
 * `<`, `>`, `&`, U+2028, U+2029 escaped as `\u003c` … (Go's HTML-safe default). Used where Chains'
 * bytes are embedded inside the statement (byproduct `content`), so they decode to what Chains wrote.
 */
export function goJson(value: unknown): string {
  return encode(value, true);
}

function encode(value: unknown, goEscapes: boolean): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) ?? 'null';
    return typeof value === 'string' && goEscapes ? escapeLikeGo(text) : text;
  }
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : encode(v, goEscapes))).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => {
      const key = JSON.stringify(k);
      return `${goEscapes ? escapeLikeGo(key) : key}:${encode((value as Record<string, unknown>)[k], goEscapes)}`;
    });
  return `{${entries.join(',')}}`;
}

function escapeLikeGo(jsonString: string): string {
  return jsonString.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
