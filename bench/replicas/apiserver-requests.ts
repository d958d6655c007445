import { request } from 'node:https';

/**
 * The kube-apiserver's own count of the requests it served (apiserver_request_total from its
 * /metrics), summed by `VERB resource` (a WATCH counts once, when it starts). Every client's
 * requests count: the bench's tracker watch is one of them.
 */
export async function apiserverRequests(server: string, token: string): Promise<Record<string, number>> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      new URL('/metrics', server),
      { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`apiserver /metrics: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const verb = /verb="([^"]*)"/.exec(line)?.[1] ?? '?';
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '?';
    const key = `${verb} ${resource || '-'}`;
    counts[key] = (counts[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** `after - before` per key, zeros left out. */
export function requestsSince(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, n]) => [k, n - (before[k] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}
