import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Closing the HTTP server without waiting on its clients. `server.close()` ends idle keep-alive
 * connections but waits for every other one, and stops checking request deadlines: one client
 * stalled mid-request would hold shutdown forever. A drain ends at once every connection that
 * is not carrying a request that has fully arrived; those requests are answered, then their
 * connections end too. Whatever is still open after the grace period is closed.
 */

export type ConnectionDrain = {
  /**
   * Closes `app` (on the server given to `trackConnections`) and resolves when every
   * connection is gone. Answers how many it closed with no request (idle, or headers still
   * arriving) and with a request whose body was still arriving.
   */
  close(app: FastifyInstance, graceMs: number): Promise<{ idle: number; arriving: number }>;
};

/** The response a connection is producing now, if any: set by Node while it answers a request. */
const answering = (socket: Socket) =>
  (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;

/**
 * Starts tracking the server's connections; call before it listens. Only connections are
 * tracked, not requests: which request a connection is answering is read off the connection
 * when a drain starts, so that serving a request costs nothing here.
 */
export function trackConnections(server: Server): ConnectionDrain {
  const open = new Set<Socket>();
  let draining = false;

  server.on('connection', (socket: Socket) => {
    // Between the start of a drain and the server's close, a new connection is not served.
    if (draining) {
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });

  return {
    async close(app, graceMs) {
      draining = true;
      const closed = app.close();
      const counts = { idle: 0, arriving: 0 };
      for (const socket of open) {
        const response = answering(socket);
        // `complete`: every byte of the request, body included, has arrived. It is answered, and
        // its connection is not kept alive for another request (one sent on it meanwhile is
        // answered 503 by the app, in order, before the connection ends).
        if (response?.req.complete) {
          response.once('close', () => socket.end());
          continue;
        }
        socket.destroy();
        counts[response ? 'arriving' : 'idle']++;
      }
      const force = setTimeout(() => {
        for (const socket of open) socket.destroy();
      }, graceMs);
      try {
        await closed;
      } finally {
        clearTimeout(force);
      }
      return counts;
    },
  };
}
