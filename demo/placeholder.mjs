// Placeholder until the demo issue lands: serves one page on loopback and prints its URL.
import { createServer } from 'node:http'

const port = Number(process.env.PORT ?? 5173)
createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
  response.end('<!doctype html><title>sluice demo</title><h1>sluice</h1><p>The live dashboard is coming.</p>')
}).listen(port, '127.0.0.1', () => console.log(`sluice demo: http://127.0.0.1:${port}/`))
