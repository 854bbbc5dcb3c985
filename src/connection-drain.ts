import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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

/** Starts tracking the server's connections; call before it listens. */
export function trackConnections(server: Server): ConnectionDrain {
  const open = new Set<Socket>();
  /** The request each connection is answering; a connection without one is idle. */
  const answering = new Map<Socket, IncomingMessage>();
  let draining = false;

  server.on('connection', (socket: Socket) => {
    // Between the start of a drain and the server's close, a new connection is not served.
    if (draining) {
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      answering.delete(socket);
    });
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const { socket } = request;
    answering.set(socket, request);
    response.once('close', () => {
      if (answering.get(socket) === request) answering.delete(socket);
      // Answered during a drain: the connection is not kept alive for another request.
      if (draining) socket.end();
    });
  });

  return {
    async close(app, graceMs) {
      draining = true;
      const closed = app.close();
      const counts = { idle: 0, arriving: 0 };
      for (const socket of open) {
        const request = answering.get(socket);
        // `complete`: every byte of the request, body included, has arrived.
        if (request?.complete) continue;
        socket.destroy();
        counts[request ? 'arriving' : 'idle']++;
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
