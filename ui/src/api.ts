/**
 * The page's only data source: the observer's /api/v1 on the same origin. The token the reader
 * pastes lives in sessionStorage (gone when the tab closes) and goes only in the Authorization
 * header of these requests. With no token the request goes without one, so an authenticating
 * proxy in front of the observer can add its own bearer header.
 */
const TOKEN_KEY = 'provenance-observer.token';

export const token = {
  get: (): string => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value.trim()),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer that is not 200, or no answer at all (status 0). */
export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** GETs `/api/v1<path>` and returns the body text; throws ApiError for anything but 200. */
export async function apiText(path: string): Promise<string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { headers, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'the observer API cannot be reached');
  }
  const text = await res.text();
  if (res.ok) return text;
  let message = res.statusText;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // not our JSON error body (a proxy's page): keep the status text
  }
  throw new ApiError(res.status, message);
}

export async function apiJson<T>(path: string): Promise<T> {
  return JSON.parse(await apiText(path)) as T;
}

/** The API's shapes (docs/api.md). */
export interface AttestationSummary {
  id: string;
  run: { kind: 'TaskRun' | 'PipelineRun'; namespace: string; name: string; uid?: string };
  predicateType: string;
  subjects: { name: string; digest: string; producedBy?: string }[];
  keyId: string;
  storage: { backend: string; ok: boolean; locations: string[]; error?: string }[];
  skipped?: { source: string; code: string; reason: string }[];
  createdAt: string;
}

export interface RunAnswer {
  run: { kind: string; namespace: string; name: string };
  states: { uid: string; status: string; attempts: number; lastError?: string; updatedAt: string }[];
  attestations: AttestationSummary[];
}
