import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpForwarder {
  /** the port it listens on, 127.0.0.1 */
  port: number;
  /** destroys every open connection (the listener stays) */
  cut: () => void;
  /** closes the port and every connection: connections are refused until up() */
  down: () => Promise<void>;
  /** listens again on the same port */
  up: () => Promise<void>;
  close: () => void;
}

/** A TCP forwarder on 127.0.0.1 to `host:port` whose connections, or port, a test can take away. */
export async function tcpForwarder(host: string, port: number): Promise<TcpForwarder> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const listenPort = (server.address() as AddressInfo).port;
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: listenPort,
    cut,
    down: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        cut();
      }),
    up: () => new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', r)),
    close: () => {
      cut();
      server.close();
    },
  };
}
