// The workspace's MLflow REST API (runs/get, runs/search, metrics/get-history) over the runs in
// the state, pipeline and step runs alike. Shapes: mlflow/protos/service.proto; Azure's quirks
// from azure-ai-ml recordings: int64 fields (times, steps) are JSON strings, experiment ids are
// GUIDs. Served under both mlflow/v1.0 (what the workspace advertises) and mlflow/v2.0 (what
// azureml-mlflow calls with MLflow 2 and later). Errors use MLflow's dialect.
import { dataPlaneRoute } from './history.js'
import type { Ctx, Route } from './http.js'
import { readJson, sendJson } from './http.js'
import type { SeedMlflow } from './seed.js'
import type { RunRef } from './state.js'
import { W, stableGuid } from './services.js'

const PREFIX = `^/mlflow/v[12]\\.0${W}/api/2\\.0/mlflow`

/** MLflow's error dialect: `{"error_code": "...", "message": "..."}`. */
class MlflowError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string
  ) {
    super(message)
  }
}

function mlflowRoute(
  id: string,
  method: string,
  sub: string,
  handler: (ctx: Ctx) => Promise<void> | void
): Route {
  return dataPlaneRoute(PREFIX, id, method, sub, false, async ctx => {
    try {
      await handler(ctx)
    } catch (err) {
      if (!(err instanceof MlflowError)) throw err
      sendJson(ctx, err.status, { error_code: err.errorCode, message: err.message })
    }
  })
}

const experimentId = (ref: RunRef): string => stableGuid(`experiment:${ref.job.experimentName}`)
const ms = (iso: string | undefined): number => (iso ? Date.parse(iso) : 0)

const STATUS: Record<string, string> = {
  Completed: 'FINISHED',
  Failed: 'FAILED',
  Canceled: 'KILLED',
  Running: 'RUNNING',
  Finalizing: 'RUNNING'
}

function findRun(ctx: Ctx, runId: string | null): RunRef {
  if (!runId) {
    throw new MlflowError(
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'run_id'."
    )
  }
  const ref = ctx.svc.state.run(runId)
  if (!ref) throw new MlflowError(404, 'RESOURCE_DOES_NOT_EXIST', `Run '${runId}' not found.`)
  return ref
}

/** Every logged value of every metric, with defaults filled in. */
function logged(ref: RunRef): { key: string; value: number; step: number; timestamp: number }[] {
  const run = ref.child ?? ref.job
  const start = ms(run.createdAt ?? ref.job.createdAt)
  return (run.mlflow?.metrics ?? []).map((m, i) => ({
    key: m.key,
    value: m.value,
    step: m.step ?? 0,
    timestamp: m.timestamp ?? start + i * 1000
  }))
}

/** The wire form of a metric value: int64 as strings, non-finite doubles as proto3 JSON names. */
function wireMetric(m: { key: string; value: number; step: number; timestamp: number }): object {
  const value = Number.isFinite(m.value)
    ? m.value
    : m.value > 0
      ? 'Infinity'
      : m.value < 0
        ? '-Infinity'
        : 'NaN'
  return { key: m.key, value, timestamp: String(m.timestamp), step: String(m.step) }
}

/** MLflow's latest value of each key: highest step, then latest timestamp, then the largest. */
function latest(ref: RunRef): object[] {
  const best = new Map<string, ReturnType<typeof logged>[number]>()
  for (const m of logged(ref)) {
    const b = best.get(m.key)
    if (
      !b ||
      m.step > b.step ||
      (m.step === b.step &&
        (m.timestamp > b.timestamp || (m.timestamp === b.timestamp && m.value > b.value)))
    ) {
      best.set(m.key, m)
    }
  }
  return [...best.values()].map(wireMetric)
}

const pairs = (record: Record<string, string> | undefined): object[] =>
  Object.entries(record ?? {}).map(([key, value]) => ({ key, value }))

function runObject(ref: RunRef): object {
  const { job, child } = ref
  const run = child ?? job
  const runId = child ? child.runId : job.name
  const mlflow: SeedMlflow = run.mlflow ?? {}
  const status = child ? (child.status ?? 'Completed') : job.status
  const endedAt = child ? child.endedAt : job.endedAt
  const tags: Record<string, string> = {
    ...run.tags,
    ...mlflow.tags,
    'mlflow.runName': run.displayName ?? runId,
    'mlflow.rootRunId': job.name
  }
  if (child) tags['mlflow.parentRunId'] = ref.parentId ?? job.name
  const info: Record<string, unknown> = {
    run_id: runId,
    run_uuid: runId,
    experiment_id: experimentId(ref),
    run_name: run.displayName ?? runId,
    user_id: 'octo',
    status: STATUS[status] ?? 'SCHEDULED',
    start_time: String(ms(run.createdAt ?? job.createdAt)),
    artifact_uri: `azureml://experiments/${job.experimentName}/runs/${runId}/artifacts`,
    lifecycle_stage: 'active'
  }
  if (endedAt) info.end_time = String(ms(endedAt))
  return {
    info,
    data: { metrics: latest(ref), params: pairs(mlflow.params), tags: pairs(tags) },
    inputs: {}
  }
}

function getRun(ctx: Ctx): void {
  const q = ctx.url.searchParams
  sendJson(ctx, 200, { run: runObject(findRun(ctx, q.get('run_id') ?? q.get('run_uuid'))) })
}

function pageToken(token: unknown): number {
  if (token === undefined || token === null || token === '') return 0
  const skip = Number(
    Buffer.from(String(token), 'base64url')
      .toString('utf8')
      .replace(/^offset:/, '')
  )
  if (!Number.isInteger(skip) || skip < 0) {
    throw new MlflowError(400, 'INVALID_PARAMETER_VALUE', 'Invalid page token.')
  }
  return skip
}

/** One page: `next_page_token` only when more follow, as MLflow answers. */
function page<T>(items: T[], skip: number, size: number): { items: T[]; next?: string } {
  const more = skip + size < items.length
  return {
    items: items.slice(skip, skip + size),
    next: more ? Buffer.from(`offset:${skip + size}`).toString('base64url') : undefined
  }
}

const PARENT_FILTER =
  /^\s*tags\.(?:`mlflow\.parentRunId`|mlflow\.parentRunId)\s*=\s*(['"])(.*)\1\s*$/

async function searchRuns(ctx: Ctx): Promise<void> {
  const body = ((await readJson(ctx)) ?? {}) as {
    experiment_ids?: unknown
    filter?: unknown
    max_results?: unknown
    page_token?: unknown
  }
  if (!Array.isArray(body.experiment_ids) || body.experiment_ids.length === 0) {
    throw new MlflowError(
      400,
      'INVALID_PARAMETER_VALUE',
      'experiment_ids must be a non-empty list.'
    )
  }
  const experiments = new Set(body.experiment_ids.map(String))
  const filter = typeof body.filter === 'string' ? body.filter : ''
  const parent = PARENT_FILTER.exec(filter)
  if (filter.trim() !== '' && !parent) {
    throw new MlflowError(
      400,
      'INVALID_PARAMETER_VALUE',
      `The emulator only filters on tags.mlflow.parentRunId, not '${filter}'.`
    )
  }
  const state = ctx.svc.state
  const refs: RunRef[] = []
  for (const job of state.data.jobs) {
    const walk = (parentId: string, steps: typeof job.children): void => {
      for (const child of steps ?? []) {
        refs.push({ job, child, parentId })
        walk(child.runId, child.children)
      }
    }
    refs.push({ job })
    walk(job.name, job.children)
  }
  const matching = refs.filter(
    ref =>
      experiments.has(experimentId(ref)) &&
      (!parent || (ref.child !== undefined && (ref.parentId ?? ref.job.name) === parent[2]))
  )
  const size = Math.min(Number(body.max_results) || 1000, ctx.svc.childPageSize)
  const result = page(matching, pageToken(body.page_token), size)
  const answer: Record<string, unknown> = {}
  if (result.items.length > 0) answer.runs = result.items.map(runObject)
  if (result.next) answer.next_page_token = result.next
  sendJson(ctx, 200, answer)
}

function metricHistory(ctx: Ctx): void {
  const q = ctx.url.searchParams
  const ref = findRun(ctx, q.get('run_id') ?? q.get('run_uuid'))
  const key = q.get('metric_key')
  if (!key) {
    throw new MlflowError(
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'metric_key'."
    )
  }
  const values = logged(ref).filter(m => m.key === key)
  const size = Math.min(Number(q.get('max_results')) || 25_000, ctx.svc.childPageSize)
  const result = page(values, pageToken(q.get('page_token')), size)
  const answer: Record<string, unknown> = {}
  if (result.items.length > 0) answer.metrics = result.items.map(wireMetric)
  if (result.next) answer.next_page_token = result.next
  sendJson(ctx, 200, answer)
}

export const mlflowRoutes: Route[] = [
  mlflowRoute('mlflow.runs.get', 'GET', '/runs/get', getRun),
  mlflowRoute('mlflow.runs.search', 'POST', '/runs/search', searchRuns),
  mlflowRoute('mlflow.metrics.history', 'GET', '/metrics/get-history', metricHistory)
]
