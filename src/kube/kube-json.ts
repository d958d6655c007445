import { ApiException, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { request } from 'undici';

type Method = 'GET' | 'PATCH' | 'POST';

/**
 * JSON requests to the apiserver over undici's request API, with the KubeConfig's credentials and
 * dispatcher (so reuseConnections and the client-side rate limit apply as to every other client).
 * For the observer's per-run calls (read and annotate a run, list runs): client-node's generated
 * clients go through undici's WHATWG fetch, an Observable shim and the model serializer for each
 * call, a cost per request measured with --cpu-prof of the draining observer. Failures are
 * client-node's ApiException (code, parsed body), as its clients throw them.
 */
export class KubeJson {
  readonly #kc: KubeConfig;

  constructor(kubeConfig: KubeConfig) {
    this.#kc = kubeConfig;
  }

  async send<T>(
    method: Method,
    path: string,
    options: {
      query?: Record<string, string | number | undefined>;
      body?: unknown;
      contentType?: string;
    } = {},
  ): Promise<T> {
    const server = this.#kc.getCurrentCluster()?.server;
    if (!server) throw new Error('kubeconfig has no current cluster');
    const url = new URL(path.replace(/^\//, ''), server.endsWith('/') ? server : `${server}/`);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const context = new RequestContext(url.href, method);
    await this.#kc.applySecurityAuthentication(context);
    const headers: Record<string, string> = { accept: 'application/json', ...context.getHeaders() };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const res = await request(url, {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      dispatcher: context.getDispatcher(),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw new ApiException(res.statusCode, `HTTP ${res.statusCode}`, parsed(text), flat(res.headers));
    return JSON.parse(text) as T;
  }
}

function flat(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
