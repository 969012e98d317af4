// Shared request plumbing: the route table type, the per-request context handed to handlers,
// and small helpers to read bodies and answer in each plane's error dialect.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { Services } from './services.js'

/** Which family a route belongs to; decides the shape of injected and generic errors. */
export type Plane = 'entra' | 'github' | 'github-api' | 'arm' | 'dataplane' | 'blob' | 'admin'

export interface Route {
  /** Stable id used by faults, the request log and tests (e.g. `arm.job.get`). */
  id: string | ((ctx: Ctx) => string)
  plane: Plane
  methods: string[]
  /** Matched against the path (no query), case-insensitively like ARM. Groups become params. */
  pattern: RegExp
  handle(ctx: Ctx): Promise<void> | void
  /**
   * A request the clients never send to Azure's own clouds, only to other hosts such as this
   * one (MSAL carries Entra's OpenID metadata for them: __tests__/contract/entra.test.ts).
   * Latency does not hold it and the log marks it, so timings count what Azure would see.
   */
  notSentToAzure?: true
}

export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  method: string
  params: string[]
  /** Origin the client used (scheme://host:port), so absolute links keep the client's host. */
  origin: string
  svc: Services
  bytesIn: number
  /** The JSON request body as read by readJson, for the request log. */
  requestText?: string
}

const MAX_BODY = 16 * 1024 * 1024

export async function readBody(ctx: Ctx): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length
    ctx.bytesIn += chunk.length
    if (size > MAX_BODY) throw new HttpError(413, 'RequestTooLarge', 'Request body too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

export async function readJson(ctx: Ctx): Promise<unknown> {
  const raw = (await readBody(ctx)).toString('utf8')
  ctx.requestText = raw
  if (raw.trim() === '') return undefined
  try {
    return JSON.parse(raw)
  } catch {
    throw new HttpError(400, 'UserError', 'The request body is not valid JSON.')
  }
}

export async function readForm(ctx: Ctx): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(ctx)).toString('utf8'))
}

export function sendJson(
  ctx: Ctx,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  const text = JSON.stringify(body)
  ctx.res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'x-ms-request-id': randomUUID(),
    ...headers
  })
  ctx.res.end(text)
}

/** Thrown by handlers; the server answers it in the route's plane dialect. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {}
  ) {
    super(message)
  }
}

/** The error body each plane's real service sends, so clients parse injected faults as usual. */
export function sendPlaneError(ctx: Ctx, plane: Plane, err: HttpError): void {
  if (ctx.res.headersSent) return void ctx.res.destroy()
  if (plane === 'blob') {
    const xml =
      `<?xml version="1.0" encoding="utf-8"?><Error><Code>${err.code}</Code>` +
      `<Message>${err.message}\nRequestId:${randomUUID()}\nTime:${new Date().toISOString()}` +
      `</Message></Error>`
    ctx.res.writeHead(err.status, {
      'content-type': 'application/xml',
      'x-ms-error-code': err.code,
      ...err.headers
    })
    return void ctx.res.end(xml)
  }
  if (plane === 'entra')
    return sendJson(ctx, err.status, entraError(err.code, err.message), err.headers)
  if (plane === 'github-api') {
    const body = { message: err.message, documentation_url: 'https://docs.github.com/rest' }
    return sendJson(ctx, err.status, { ...body, status: String(err.status) }, err.headers)
  }
  sendJson(ctx, err.status, { error: { code: err.code, message: err.message } }, err.headers)
}

export function entraError(error: string, description: string): Record<string, unknown> {
  const trace = randomUUID()
  const codes = [...description.matchAll(/AADSTS(\d+)/g)].map(m => Number(m[1]))
  return {
    error,
    error_description: `${description}\r\nTrace ID: ${trace}\r\nTimestamp: ${new Date().toISOString()}`,
    error_codes: codes,
    timestamp: new Date().toISOString().replace('T', ' ').replace('Z', 'Z'),
    trace_id: trace,
    correlation_id: randomUUID()
  }
}

/** Default error code per status for injected faults. */
export function faultCode(plane: Plane, status: number): string {
  if (plane === 'blob')
    return status === 503 ? 'ServerBusy' : status === 500 ? 'InternalError' : 'OperationTimedOut'
  if (plane === 'entra') return status === 429 ? 'temporarily_unavailable' : 'server_error'
  if (status === 429) return 'TooManyRequests'
  if (status === 503) return 'ServiceUnavailable'
  return 'InternalServerError'
}

/** An absolute link to the same path with `set` applied to the current query, written the way
 * Azure writes them (`$skip`, not `%24skip`). Uses the client's own origin. */
export function selfLink(ctx: Ctx, set: Record<string, string>, drop: RegExp = /^$/): string {
  const params = new Map<string, string>()
  for (const [k, v] of ctx.url.searchParams) if (!drop.test(k) && !(k in set)) params.set(k, v)
  for (const [k, v] of Object.entries(set)) params.set(k, v)
  const enc = (s: string): string => encodeURIComponent(s).replace(/%24/g, '$')
  const query = [...params].map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')
  return `${ctx.origin}${ctx.url.pathname}?${query}`
}
