/**
 * The apiserver answered a request with a status outside 2xx. `code` is the HTTP status; `body` the
 * parsed answer (a metav1.Status, usually) or its text when it is not JSON. The message carries
 * the status and the Status `message`, never request headers (credentials).
 */
export class KubeApiError extends Error {
  readonly code: number;
  readonly body: unknown;

  constructor(code: number, body: unknown, context = '') {
    super(`${context ? `${context}: ` : ''}HTTP ${code}: ${statusMessage(body)}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
  }
}

/** The HTTP status of a KubeApiError (also as the cause of a wrapping error), else undefined. */
export function kubeStatusOf(err: unknown): number | undefined {
  for (let c = err, depth = 0; c && depth < 4; c = (c as Error).cause, depth++)
    if (c instanceof KubeApiError) return c.code;
  return undefined;
}

/** An answer body as JSON, else its text. */
export function parsedBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function statusMessage(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 200) || 'no details';
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : 'no details';
}
