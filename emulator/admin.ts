// Admin API under /_emulator/, for the CLI to steer a running emulator. No auth: the server
// only listens on loopback. Not subject to latency, faults or the request log.
import type { Ctx, Route } from './http.js'
import { HttpError, readJson, sendJson } from './http.js'
import type { FaultRule } from './faults.js'
import type { SeedJob } from './seed.js'

function route(method: string, path: string, handle: (ctx: Ctx) => Promise<void> | void): Route {
  return {
    id: `admin${path.replace(/\//g, '.')}`,
    plane: 'admin',
    methods: [method],
    pattern: new RegExp(`^/_emulator${path}$`),
    handle
  }
}

async function addFaults(ctx: Ctx): Promise<void> {
  const body = (await readJson(ctx)) as FaultRule | FaultRule[]
  try {
    ctx.svc.faults.add(body)
  } catch (err) {
    throw new HttpError(400, 'BadFault', (err as Error).message)
  }
  sendJson(ctx, 201, { pending: ctx.svc.faults.pending() })
}

async function setLatency(ctx: Ctx): Promise<void> {
  const body = (await readJson(ctx)) as { latencyMs?: unknown }
  const ms = Number(body?.latencyMs)
  if (!Number.isFinite(ms) || ms < 0)
    throw new HttpError(400, 'BadLatency', 'latencyMs must be >= 0')
  ctx.svc.settings.latencyMs = ms
  sendJson(ctx, 200, { latencyMs: ms })
}

async function addJob(ctx: Ctx): Promise<void> {
  const job = (await readJson(ctx)) as SeedJob
  if (!job?.name || !job.experimentName || !job.status) {
    throw new HttpError(400, 'BadJob', 'A job needs name, experimentName and status')
  }
  try {
    sendJson(ctx, 201, ctx.svc.state.addJob(job))
  } catch (err) {
    throw new HttpError(409, 'Conflict', (err as Error).message)
  }
}

async function jobStatus(ctx: Ctx): Promise<void> {
  const body = (await readJson(ctx)) as { status?: string; afterMs?: number }
  const name = ctx.params[0]
  if (!ctx.svc.state.job(name)) throw new HttpError(404, 'NotFound', `No job ${name}`)
  if (!body?.status) throw new HttpError(400, 'BadStatus', 'status is required')
  if (body.afterMs) ctx.svc.state.completeJobAfter(name, body.afterMs, body.status)
  else ctx.svc.state.setJobStatus(name, body.status)
  sendJson(ctx, 200, { name, status: body.status, afterMs: body.afterMs ?? 0 })
}

export const adminRoutes: Route[] = [
  route('GET', '/state', ctx => sendJson(ctx, 200, ctx.svc.state.data)),
  route('GET', '/faults', ctx =>
    sendJson(ctx, 200, { pending: ctx.svc.faults.pending(), injected: ctx.svc.faults.stats() })
  ),
  route('POST', '/faults', addFaults),
  route('DELETE', '/faults', ctx => (ctx.svc.faults.clear(), sendJson(ctx, 200, { pending: [] }))),
  route('PUT', '/latency', setLatency),
  route('GET', '/log', ctx => sendJson(ctx, 200, ctx.svc.log)),
  route('DELETE', '/log', ctx => (ctx.svc.log.splice(0), sendJson(ctx, 200, { cleared: true }))),
  route('POST', '/jobs', addJob),
  route('POST', '/jobs/([^/]+)/status', jobStatus)
]
