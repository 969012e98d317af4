import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nextRequestWritten } from '../../src/azureml/inflight.js'

let server: Server
/** Hands the test the way to answer the request that arrived: until then it stays in flight. */
let arrived: (answer: () => void) => void = () => undefined
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume()
    arrived(() => res.end('ok'))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

const never = new Promise<never>(() => undefined)

test('resolves once the next request is written, while its answer is still awaited', async () => {
  const answer = new Promise<() => void>(resolve => (arrived = resolve))
  const written = nextRequestWritten(never)
  let answered = false
  const { port } = server.address() as AddressInfo
  const response = new Promise<void>(resolve => {
    const options = { port, host: '127.0.0.1', method: 'POST', path: '/', agent: false }
    request(options, res => {
      answered = true
      res.resume()
      res.on('end', resolve)
    }).end('body')
  })
  await written
  expect(answered).toBe(false)
  ;(await answer)()
  await response
  expect(answered).toBe(true)
})

test('resolves when no request comes but the fallback settles', async () => {
  let settle: () => void = () => undefined
  const fallback = new Promise<void>(resolve => (settle = resolve))
  let resolved = false
  const written = nextRequestWritten(fallback).then(() => (resolved = true))
  await new Promise(resolve => setTimeout(resolve, 20))
  expect(resolved).toBe(false)
  settle()
  await written
  expect(resolved).toBe(true)
})
