/** Stopping an HTTP server without cutting requests short, within a bounded time. */
import type { Server } from 'node:http';

/**
 * Stops accepting connections, lets requests in flight finish, closes keep-alive connections as
 * soon as they are idle, and after `timeoutMs` closes whatever is left. Resolves once the server
 * is closed; `forced` tells whether the deadline had to cut connections.
 */
export async function closeHttpServer(server: Server, timeoutMs: number): Promise<{ forced: boolean }> {
  let forced = false;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A keep-alive connection whose request just finished becomes idle: close it then, rather
  // than waiting for the client or the keep-alive timeout.
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  const deadline = setTimeout(() => {
    forced = true;
    server.closeAllConnections();
  }, timeoutMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
  return { forced };
}
