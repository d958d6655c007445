import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 to `target` that a test can cut (every connection reset, new ones
 * refused) and restore on the same port, or black-hole (nothing forwarded either way, no reset,
 * new connections accepted and left silent) and heal: a network partition without touching the
 * server.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #blackholed = false;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    this.port = address.port;
    this.#server = server;
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    s.on('error', () => undefined);
  }

  #accept(client: Socket): void {
    this.#track(client);
    if (this.#blackholed) {
      client.pause();
      return;
    }
    const upstream = connect(this.#target.port, this.#target.host);
    this.#track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** Resets every open connection and refuses new ones until `start` is called again. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.resetAndDestroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /**
   * A partition: open connections stay open but nothing crosses them any more (no reset: a
   * client waits for its own timeouts), and new ones are accepted and never answered, until `heal`.
   */
  blackhole(): void {
    this.#blackholed = true;
    for (const s of this.#sockets) {
      s.unpipe();
      s.pause();
    }
  }

  /**
   * Ends the partition: the connections it held are reset (what a peer that forgot them answers),
   * and new ones are forwarded again.
   */
  heal(): void {
    this.#blackholed = false;
    for (const s of this.#sockets) s.resetAndDestroy();
  }
}
