import net from 'node:net';

/**
 * A TCP proxy in front of the database, for the tests of "the database went away": {@link cut} drops
 * every connection through it and refuses new ones (as a stopped server does: connection refused),
 * {@link restore} accepts again on the same port.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly clients = new Set<net.Socket>();
  private listeningPort = 0;

  private constructor(private readonly target: { readonly host: string; readonly port: number }) {}

  /** A proxy on a free local port, forwarding to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.restore();
    return proxy;
  }

  /** The local port the proxy accepts on (the same after a {@link cut} and {@link restore}). */
  get port(): number {
    return this.listeningPort;
  }

  /** How many client connections are open through the proxy. */
  get connections(): number {
    return this.clients.size;
  }

  /** Drops every connection and stops accepting: new connections are refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.clients.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts again, on the port of before (a free one the first time). */
  async restore(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listeningPort, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.listeningPort = (server.address() as net.AddressInfo).port;
  }

  /** Stops for good. */
  close(): Promise<void> {
    return this.cut();
  }
}
