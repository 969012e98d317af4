// The one HTTPS server every plane shares. It matches a route, waits the global latency, applies
// any armed fault, runs the handler and records the request (path only: SAS queries are secrets).
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FaultEngine, FaultRule } from './faults.js'
import type { Ctx, Route } from './http.js'
import { HttpError, faultCode, sendJson, sendPlaneError } from './http.js'
import type { Services } from './services.js'

export interface LogEntry {
  at: number
  method: string
  route: string
  /** Path without the query string. */
  path: string
  /** 0 when the connection was dropped before a response. */
  status: number
  durationMs: number
  bytesIn: number
  fault?: FaultRule['kind']
  /** ARM's api-version query parameter, when sent. */
  apiVersion?: string
  /** With `logBodies`: JSON bodies of ARM and data-plane calls (SAS signatures redacted). */
  requestBody?: unknown
  responseBody?: unknown
  /** The route's `notSentToAzure`: not held by latency, and no round trip on Azure. */
  notSentToAzure?: true
}

export interface ServerSettings {
  latencyMs: number
  /** Keep JSON request and response bodies in the log (contract tests validate them). */
  logBodies?: boolean
  /** `azure`: the model version PUT stores a rewritten modelUri, as Azure may (modes.ts). */
  modelUriMode?: 'echo' | 'azure'
  /** How the model versions list reads `$top`: a page size (nextLink) or a cap (no nextLink). */
  topReading?: 'page' | 'cap'
  /** ARM api-versions served; any other is refused as ARM does (NoRegisteredProviderFound). */
  armApiVersions?: string[]
}

const LOG_LIMIT = 20_000

export interface EmulatorServer {
  port: number
  close(): Promise<void>
}

export async function startServer(opts: {
  cert: string
  key: string
  port: number
  routes: Route[]
  log: LogEntry[]
  services: () => Services
  faults: FaultEngine
  settings: ServerSettings
}): Promise<EmulatorServer> {
  const { log } = opts
  const server = https.createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    const started = Date.now()
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? '127.0.0.1'}`)
    const method = (req.method ?? 'GET').toUpperCase()
    const ctx: Ctx = {
      req,
      res,
      url,
      method,
      params: [],
      origin: url.origin,
      svc: opts.services(),
      bytesIn: 0
    }
    const route = matchRoute(opts.routes, method, url.pathname, ctx)
    const routeId = route ? (typeof route.id === 'string' ? route.id : route.id(ctx)) : 'unknown'
    const entry: LogEntry = {
      at: started,
      method,
      route: routeId,
      path: url.pathname,
      status: 0,
      durationMs: 0,
      bytesIn: 0
    }
    const apiVersion = url.searchParams.get('api-version')
    if (apiVersion) entry.apiVersion = apiVersion
    if (route?.notSentToAzure) entry.notSentToAzure = true
    // Recorded when the handler ends the response, so the entry exists before the client can
    // see the response (same-process tests read the log right after awaiting the call); a
    // 'close' before that means the connection died first (status 0).
    let recorded = false
    const record = (finished: boolean): void => {
      if (recorded || route?.plane === 'admin') return
      recorded = true
      entry.status = finished ? res.statusCode : 0
      entry.durationMs = Date.now() - started
      entry.bytesIn = ctx.bytesIn
      if (opts.settings.logBodies && (route?.plane === 'arm' || route?.plane === 'dataplane')) {
        if (ctx.requestText) entry.requestBody = redactedJson(ctx.requestText)
        if (responseText !== undefined) entry.responseBody = redactedJson(responseText)
      }
      log.push(entry)
      if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT)
    }
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res
    let responseText: string | undefined
    res.end = ((...args: unknown[]) => {
      const chunk = args[0]
      if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) responseText = chunk.toString()
      record(true)
      return end(...args)
    }) as typeof res.end
    res.on('close', () => record(false))
    void handle(ctx, route, routeId, entry, opts)
  })
  server.on('clientError', (_err, socket) => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/** A logged JSON body, with SAS signatures (credentials) cut out of every string. */
function redactedJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/([?&]sig=)[^&"\\]*/g, '$1REDACTED'))
  } catch {
    return undefined
  }
}

function matchRoute(routes: Route[], method: string, path: string, ctx: Ctx): Route | undefined {
  for (const route of routes) {
    const m = route.pattern.exec(path)
    if (m && route.methods.includes(method)) {
      ctx.params = m.slice(1).map(safeDecode)
      return route
    }
  }
  return undefined
}

function safeDecode(part: string | undefined): string {
  try {
    return decodeURIComponent(part ?? '')
  } catch {
    return part ?? ''
  }
}

async function handle(
  ctx: Ctx,
  route: Route | undefined,
  routeId: string,
  entry: LogEntry,
  opts: { faults: FaultEngine; settings: ServerSettings }
): Promise<void> {
  try {
    if (!route) {
      ctx.req.resume()
      return sendJson(ctx, 404, {
        error: {
          code: 'NotFound',
          message: `No emulator route for ${ctx.method} ${ctx.url.pathname}`
        }
      })
    }
    if (route.plane !== 'admin') {
      if (opts.settings.latencyMs > 0 && !route.notSentToAzure) await sleep(opts.settings.latencyMs)
      const fault = opts.faults.take(routeId, ctx.method)
      if (fault) {
        entry.fault = fault.kind
        if (await applyFault(ctx, route, fault)) return
      }
    }
    await route.handle(ctx)
  } catch (err) {
    const plane = route?.plane ?? 'arm'
    if (err instanceof HttpError) return sendPlaneError(ctx, plane, err)
    const message = err instanceof Error ? err.message : String(err)
    sendPlaneError(
      ctx,
      plane,
      new HttpError(500, faultCode(plane, 500), `Emulator error: ${message}`)
    )
  }
}

/** Returns true when the fault answered (or killed) the request. */
async function applyFault(ctx: Ctx, route: Route, fault: FaultRule): Promise<boolean> {
  if (fault.kind === 'delay') {
    await sleep(fault.delayMs ?? 1000)
    return false
  }
  if (fault.kind === 'drop') {
    await dropConnection(ctx, fault.afterBytes ?? 0)
    return true
  }
  if (fault.kind === 'lost-answer') {
    loseAnswer(ctx)
    return false
  }
  const status = fault.status ?? 503
  const headers: Record<string, string> = {}
  if (fault.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(fault.retryAfterSeconds)
  ctx.req.resume()
  const message = `Injected fault: ${status} for ${ctx.method} ${ctx.url.pathname}`
  sendPlaneError(
    ctx,
    route.plane,
    new HttpError(status, faultCode(route.plane, status), message, headers)
  )
  return true
}

/**
 * The request is handled in full (the write is applied), then its answer never reaches the
 * client: the connection is cut where the response would start.
 */
function loseAnswer(ctx: Ctx): void {
  const cut = (): typeof ctx.res => {
    ctx.req.socket.destroy()
    return ctx.res
  }
  ctx.res.writeHead = cut as unknown as typeof ctx.res.writeHead
  ctx.res.write = (() => true) as typeof ctx.res.write
  ctx.res.end = cut as unknown as typeof ctx.res.end
}

/** Cuts the socket, optionally only after part of the request body arrived (mid-upload). */
function dropConnection(ctx: Ctx, afterBytes: number): Promise<void> {
  const cut = (): void => {
    ctx.req.socket.destroy()
  }
  if (afterBytes <= 0) return Promise.resolve(cut())
  return new Promise(resolve => {
    let fired = false
    const done = (): void => {
      if (fired) return
      fired = true
      ctx.req.removeAllListeners('data')
      cut()
      resolve()
    }
    ctx.req.on('data', (chunk: Buffer) => {
      ctx.bytesIn += chunk.length
      if (ctx.bytesIn >= afterBytes) done()
    })
    ctx.req.on('end', done)
    ctx.req.on('error', done)
  })
}
