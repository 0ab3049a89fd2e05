/**
 * The one way tests start a loopback HTTP server: `node:http` on 127.0.0.1, a free port, listening
 * when returned. `listen` ties it to the running test (closed when the test finishes); `startLoopback`
 * leaves closing to the caller (a server shared by a file's tests, or one a helper owns). Closing
 * destroys the open sockets first, so a stream a test left open cannot hold `close` up.
 * `serveForTest` is the same for a fetch handler served by sluice-server's `serve()`.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { type FetchHandler, type NodeServer, type ServeOptions, serve } from 'sluice-server/node'
import { onTestFinished } from 'vitest'

/** A server started by {@link startLoopback}. */
export interface Loopback {
  server: Server
  /** `http://127.0.0.1:<port>/` */
  url: string
  /** Destroys the open sockets, then closes the server. */
  close(): Promise<void>
}

/** A loopback server the caller closes (in `afterAll`, or when what owns it closes). */
export async function startLoopback(handler: RequestListener): Promise<Loopback> {
  const server = createServer(handler)
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    url: urlOf(server),
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A loopback server for the running test: closed, its sockets destroyed, when the test finishes. */
export async function listen(handler: RequestListener): Promise<Server> {
  const { server, close } = await startLoopback(handler)
  onTestFinished(close)
  return server
}

/** `http://127.0.0.1:<port>/` of a listening server. */
export function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

/** sluice-server's `serve(handler, options)` for the running test: closed, its connections cut, when it finishes. */
export async function serveForTest(handler: FetchHandler, options: ServeOptions = {}): Promise<NodeServer> {
  const server = await serve(handler, options)
  onTestFinished(() => server.close())
  return server
}
