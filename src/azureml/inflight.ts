import diagnostics from 'node:diagnostics_channel'
import type { ClientRequest } from 'node:http'

/** Published by Node's HTTP client for every request it creates (Node 18.15 and later). */
const REQUEST_START = 'http.client.request.start'

/**
 * Resolves once the next HTTP(S) request this process sends is written to its socket, or when
 * `otherwise` settles first (no request was needed). Loading a large module then overlaps the
 * wait for that request's answer: started any earlier, its compile (tens of milliseconds of the
 * only thread) would hold back the request's DNS answer, connection or TLS handshake instead.
 */
export function nextRequestWritten(otherwise: Promise<unknown>): Promise<void> {
  return new Promise(resolve => {
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      diagnostics.unsubscribe(REQUEST_START, onStart)
      resolve()
    }
    function onStart(message: unknown): void {
      diagnostics.unsubscribe(REQUEST_START, onStart)
      const { request } = message as { request: ClientRequest }
      request.once('finish', finish)
      request.once('error', finish)
      request.once('close', finish)
    }
    diagnostics.subscribe(REQUEST_START, onStart)
    otherwise.then(finish, finish)
  })
}
