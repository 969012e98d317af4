// The Azure ML data plane (run history and run artifacts), reached at the host the workspace
// advertises. Same bearer token as ARM, no api-version.
import { randomUUID } from 'node:crypto'
import { authenticate, authorize, type Principal } from './auth.js'
import type { Ctx, Route } from './http.js'
import { HttpError, readJson, selfLink, sendJson } from './http.js'
import type { RunRef } from './state.js'
import { W, stableGuid } from './services.js'

const PREFIX = `^/history/v1\\.0${W}`
const userError = (status: number, message: string): HttpError =>
  new HttpError(status, 'UserError', message)

/**
 * A route of the workspace data plane under `prefix` (run history, MLflow): the bearer token,
 * the caller's role on the workspace, and a 404 for another workspace, before `handler`.
 */
export function dataPlaneRoute(
  prefix: string,
  id: string,
  method: string,
  sub: string,
  write: boolean,
  handler: (ctx: Ctx, who: Principal) => Promise<void> | void
): Route {
  return {
    id,
    plane: 'dataplane',
    methods: [method],
    pattern: new RegExp(`${prefix}${sub}/?$`, 'i'),
    handle: async ctx => {
      const who = authenticate(ctx, 'dataplane')
      const scope = `/${ctx.url.pathname.split('/').slice(3, 11).join('/')}`
      authorize(who, write, 'experiments/runs', scope)
      const d = ctx.svc.state.data
      const [sub_, rg, ws] = ctx.params
      const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()
      if (
        !same(sub_, d.subscriptionId) ||
        !same(rg, d.resourceGroup) ||
        !same(ws, d.workspace.name)
      ) {
        throw userError(404, `Workspace ${ws} in resource group ${rg} was not found.`)
      }
      await handler(ctx, who)
    }
  }
}

function dataRoute(
  id: string,
  method: string,
  sub: string,
  write: boolean,
  handler: (ctx: Ctx, who: Principal) => Promise<void> | void
): Route {
  return dataPlaneRoute(PREFIX, id, method, sub, write, handler)
}

function findRun(ctx: Ctx, runId: string, experiment?: string): RunRef {
  const ref = ctx.svc.state.run(runId)
  if (!ref) throw userError(404, `Run ${runId} was not found.`)
  if (experiment && experiment.toLowerCase() !== ref.job.experimentName.toLowerCase()) {
    throw userError(404, `Run ${runId} was not found in experiment ${experiment}.`)
  }
  return ref
}

function runResource(ref: RunRef): object {
  const { job, child } = ref
  const runId = child ? child.runId : job.name
  return {
    runId,
    parentRunId: child ? (ref.parentId ?? job.name) : null,
    rootRunId: job.name,
    experimentId: stableGuid(`experiment:${job.experimentName}`),
    status: child ? (child.status ?? 'Completed') : job.status,
    displayName: child ? (child.displayName ?? child.name ?? runId) : (job.displayName ?? job.name),
    name: child ? (child.name ?? null) : job.name,
    runType: child ? 'azureml.StepRun' : 'azureml.PipelineRun',
    // MLflow tags are run tags in Azure ML: run history shows them too.
    tags: { ...((child ? child.tags : job.tags) ?? {}), ...(child ?? job).mlflow?.tags },
    properties: (child ? child.properties : job.properties) ?? {},
    createdUtc:
      (child ? child.createdAt : job.createdAt) ?? job.createdAt ?? '2024-01-01T00:00:00Z',
    dataContainerId: `dcid.${runId}`
  }
}

function children(ctx: Ctx): void {
  const ref = findRun(ctx, ctx.params[3])
  const steps = ref.child ? (ref.child.children ?? []) : (ref.job.children ?? [])
  const parentId = ref.child ? ref.child.runId : ref.job.name
  const all = steps.map(child => ({ job: ref.job, child, parentId }))
  const q = ctx.url.searchParams
  const top = Number(q.get('$top')) || ctx.svc.childPageSize
  const token = q.get('$continuationtoken') ?? q.get('$continuationToken')
  let skip = 0
  if (token) {
    skip = Number(
      Buffer.from(token, 'base64url')
        .toString('utf8')
        .replace(/^skip:/, '')
    )
    if (!Number.isInteger(skip) || skip < 0) throw userError(400, 'Invalid continuation token.')
  }
  const more = skip + top < all.length
  const nextToken = more ? Buffer.from(`skip:${skip + top}`).toString('base64url') : null
  const nextLink = nextToken
    ? selfLink(ctx, { $top: String(top), $continuationtoken: nextToken }, /^\$continuationtoken$/i)
    : null
  sendJson(ctx, 200, {
    value: all.slice(skip, skip + top).map(runResource),
    continuationToken: nextToken,
    nextLink
  })
}

const artifactId = (runId: string, path: string): string => `ExperimentRun/dcid.${runId}/${path}`

function normalizePath(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined
  const path = raw.replace(/\\/g, '/').replace(/^\/+/, '')
  const parts = path.split('/')
  if (path === '' || parts.some(p => p === '' || p === '.' || p === '..')) return undefined
  return path
}

/**
 * One entry of a batch result's `errors` map: run-history.json's ErrorResponse (a RootError
 * under `error`, plus correlation and where it happened), not a flat {code, message}.
 */
function errorResponse(ctx: Ctx, code: string, message: string): object {
  return {
    error: { code, severity: null, message, messageFormat: null, details: [] },
    correlation: { operation: randomUUID().replace(/-/g, ''), request: randomUUID().slice(0, 16) },
    environment: ctx.svc.state.data.workspace.location,
    location: ctx.svc.state.data.workspace.location,
    time: new Date().toISOString(),
    componentName: 'artifact'
  }
}

async function batchMetadata(ctx: Ctx): Promise<void> {
  const [, , , experiment, runId] = ctx.params
  findRun(ctx, runId, experiment)
  const body = (await readJson(ctx)) as { paths?: Array<{ path?: unknown }> } | undefined
  if (!body || !Array.isArray(body.paths)) throw userError(400, 'The field paths is required.')
  const { state, blob } = ctx.svc
  const result = {
    artifacts: {} as Record<string, object>,
    artifactContentInformation: {} as Record<string, object>,
    errors: {} as Record<string, object>
  }
  for (const entry of body.paths) {
    const path = normalizePath(entry?.path)
    if (!path) {
      result.errors[String(entry?.path)] = errorResponse(
        ctx,
        'UserError',
        `Invalid artifact path '${String(entry?.path)}'.`
      )
      continue
    }
    const base = { origin: 'ExperimentRun', container: `dcid.${runId}`, path }
    if (state.artifact(runId, path)) {
      result.errors[path] = errorResponse(
        ctx,
        'UserError',
        `Resource Conflict: ArtifactId ${artifactId(runId, path)} already exists.`
      )
      continue
    }
    state.addArtifact(runId, path)
    result.artifacts[path] = { artifactId: artifactId(runId, path), ...base }
    result.artifactContentInformation[path] = {
      contentUri: blob.sasUrl(runId, path, 'cw'),
      ...base
    }
  }
  sendJson(ctx, 200, result)
}

function contentInfo(ctx: Ctx): void {
  const [, , , experiment, runId] = ctx.params
  findRun(ctx, runId, experiment)
  const path = normalizePath(ctx.url.searchParams.get('path'))
  if (!path) throw userError(400, 'The query parameter path is required.')
  if (!ctx.svc.state.artifact(runId, path)) {
    throw userError(404, `Artifact ${artifactId(runId, path)} was not found.`)
  }
  sendJson(ctx, 200, {
    contentUri: ctx.svc.blob.sasUrl(runId, path, 'r'),
    origin: 'ExperimentRun',
    container: `dcid.${runId}`,
    path
  })
}

function listArtifacts(ctx: Ctx): void {
  const [, , , experiment, runId] = ctx.params
  findRun(ctx, runId, experiment || undefined)
  sendJson(ctx, 200, {
    value: ctx.svc.state.listArtifacts(runId).map(a => ({
      artifactId: artifactId(runId, a.path),
      origin: 'ExperimentRun',
      container: `dcid.${runId}`,
      path: a.path,
      createdTime: a.createdAt
    })),
    continuationToken: null,
    nextLink: null
  })
}

function discovery(ctx: Ctx): void {
  const api = ctx.svc.apiUrl
  sendJson(ctx, 200, {
    api,
    catalog: api,
    experimentation: api,
    history: api,
    modelmanagement: api,
    pipelines: api,
    studiocoreservices: api
  })
}

const RUN = '/runs/([^/]+)'
const EXP_RUN = `/experiments/([^/]+)${RUN}`
export const historyRoutes: Route[] = [
  // Discovery is anonymous in Azure too: clients call it before they hold a data-plane token.
  {
    id: 'dataplane.discovery',
    plane: 'dataplane',
    methods: ['GET'],
    pattern: /^\/discovery\/?$/i,
    handle: discovery
  },
  dataRoute('history.children', 'GET', `${RUN}/children`, false, children),
  dataRoute('history.run.get', 'GET', RUN, false, ctx =>
    sendJson(ctx, 200, runResource(findRun(ctx, ctx.params[3])))
  ),
  dataRoute(
    'history.artifacts.metadata',
    'POST',
    `${EXP_RUN}/artifacts/batch/metadata`,
    true,
    batchMetadata
  ),
  dataRoute(
    'history.artifacts.contentinfo',
    'GET',
    `${EXP_RUN}/artifacts/contentinfo`,
    false,
    contentInfo
  ),
  dataRoute(
    'history.artifacts.list',
    'GET',
    `(?:/experiments/([^/]+))?${RUN}/artifacts`,
    false,
    listArtifacts
  )
]
