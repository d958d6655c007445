import { request } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
  /** the certificate the server presented */
  peer: PeerCertificate;
}

/**
 * GETs from the lookup API over HTTPS, trusting only `ca` (the test's throwaway certificate), so a
 * test proves the server presents that certificate. Fresh connection per request (no keep-alive),
 * so a reloaded certificate shows on the next call.
 */
export function apiGet(base: string, ca: string, path: string, token?: string): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { ca, agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
            peer,
          });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.end();
  });
}
