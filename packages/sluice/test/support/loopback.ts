/**
 * A `node:http` server on 127.0.0.1 for one test: listening when returned, and closed when the test
 * finishes, its open sockets destroyed first (a stream the test left open must not hold `close`).
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { onTestFinished } from 'vitest'

export async function listen(handler: RequestListener): Promise<Server> {
  const server = createServer(handler)
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return server
}
