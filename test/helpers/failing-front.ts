import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry front on 127.0.0.1 that answers `500` to every request while it is down, and passes
 * requests through to a real registry (Host header and all, so the registry's upload locations name
 * the front) while it is up: a registry outage the test can start and end.
 */
export interface FailingFront {
  /** host:port of the front */
  host: string;
  /** requests answered 500 so far */
  failed: () => number;
  down(): void;
  up(): void;
  close(): void;
}

export async function startFailingFront(target: string, initiallyDown = true): Promise<FailingFront> {
  const [targetHost = '127.0.0.1', targetPort = '80'] = target.split(':');
  let down = initiallyDown;
  let failed = 0;
  const pass = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const server: Server = createServer((req, res) => {
    if (!down) return pass(req, res);
    failed++;
    req.resume();
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    failed: () => failed,
    down: () => {
      down = true;
    },
    up: () => {
      down = false;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
