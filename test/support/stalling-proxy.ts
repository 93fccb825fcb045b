/**
 * A TCP proxy in front of PostgreSQL that can stall some of its connections: it stops forwarding
 * bytes in both directions and closes nothing, as a NAT or load balancer that silently forgot a
 * connection does. Neither end sees an error or an end; the bytes just stop.
 */
import net from 'node:net';

export interface StallingProxy {
  /** The database URL, through the proxy. */
  url: string;
  /** Stalls the connections, open and to come, whose startup message names the application. */
  stall(): void;
  /** Forwards again, held bytes first. */
  resume(): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  /** Whether the client's startup message named the application; known after its first bytes. */
  chosen?: boolean;
  held: Array<{ to: net.Socket; chunk: Buffer }>;
}

export async function startStallingProxy(databaseUrl: string, applicationName: string): Promise<StallingProxy> {
  const target = new URL(databaseUrl);
  const links = new Set<Link>();
  let stalling = false;

  const hold = (link: Link) => {
    link.client.pause();
    link.upstream.pause();
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    const link: Link = { client, upstream, held: [] };
    links.add(link);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk: Buffer) => {
        // PostgreSQL's client speaks first: its first bytes are the startup message.
        if (from === client && link.chosen === undefined) link.chosen = chunk.includes(applicationName);
        if (stalling && link.chosen) {
          hold(link);
          link.held.push({ to, chunk });
          return;
        }
        to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      links.delete(link);
    };
    for (const socket of [client, upstream]) socket.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);

  return {
    url: url.toString(),
    stall() {
      stalling = true;
      for (const link of links) if (link.chosen) hold(link);
    },
    resume() {
      stalling = false;
      for (const link of links) {
        for (const { to, chunk } of link.held.splice(0)) to.write(chunk);
        link.client.resume();
        link.upstream.resume();
      }
    },
    async close() {
      for (const link of links) {
        link.client.destroy();
        link.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
