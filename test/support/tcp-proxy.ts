import net from 'node:net';

/**
 * A TCP proxy on loopback in front of a real server (the test's PostgreSQL), which a test can cut
 * and restore: an outage of the database, as a restart or a network failure shows it to the
 * service, without root and without touching the server other suites use.
 *
 * - `cut('refuse')`: every open connection is destroyed (the service sees its queries fail with
 *   "Connection terminated unexpectedly" / ECONNRESET) and the port stops listening, so new
 *   connections are refused (ECONNREFUSED), as while the server is down.
 * - `cut('reset')`: the same, but the port keeps accepting and closes every new connection at
 *   once, as a server that is shutting down or starting up does.
 * - `restore()`: connections go through again.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private server?: net.Server;
  private mode: 'open' | 'refuse' | 'reset' = 'open';
  /** Connections accepted and piped through (not those closed while cut). */
  connections = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    private port: number,
  ) {}

  /** Listens on an ephemeral loopback port and pipes every connection to host:port. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    await proxy.listen();
    return proxy;
  }

  get address(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.port };
  }

  get isCut(): boolean {
    return this.mode !== 'open';
  }

  /** Destroys every open connection and refuses or resets new ones until restore(). */
  async cut(mode: 'refuse' | 'reset' = 'refuse'): Promise<void> {
    if (this.isCut) throw new Error('the proxy is cut already');
    this.mode = mode;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (mode === 'refuse') await this.stopListening();
  }

  async restore(): Promise<void> {
    if (!this.isCut) return;
    const wasRefusing = this.mode === 'refuse';
    this.mode = 'open';
    if (wasRefusing) await this.listen();
  }

  async close(): Promise<void> {
    this.mode = 'refuse';
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await this.stopListening();
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      // The same port again after a cut: the service's configuration names it.
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private stopListening(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // close() stops accepting at once; its callback waits for connections, which are destroyed.
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.mode !== 'open') {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = net.connect(this.target.port, this.target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
