import { UserError } from '../errors.js'
import type { Workspace } from './workspace.js'

/**
 * The workspace's MLflow REST API (runs/get, runs/search, metrics/get-history), on the same
 * JSON pipeline, token and retries as run history. Shapes: mlflow/protos/service.proto (GetRun,
 * SearchRuns, GetMetricHistory); Azure writes int64 fields (times, steps) as JSON strings.
 */

/** One logged value of a metric. */
export interface MlflowMetric {
  key: string
  value: number
  timestamp: number
  step: number
}

/** The slice of an MLflow run the gate reads. */
export interface MlflowRun {
  id: string
  experimentId: string
  name?: string
  /** Epoch ms, when the run has ended */
  endTime?: number
  /** The latest value of each metric, as runs/get reports it */
  metrics: Map<string, MlflowMetric>
  params: Map<string, string>
  tags: Map<string, string>
}

interface WireMetric {
  key?: string
  value?: number | string
  timestamp?: number | string
  step?: number | string
}
interface WireKeyValue {
  key?: string
  value?: string
}
export interface WireRun {
  info?: {
    run_id?: string
    run_uuid?: string
    experiment_id?: string
    run_name?: string
    end_time?: number | string
  }
  data?: { metrics?: WireMetric[]; params?: WireKeyValue[]; tags?: WireKeyValue[] }
}

/** Runs the search asks for at once (MLflow's own default and maximum per page is 1000). */
const SEARCH_PAGE = 1000

export class MlflowClient {
  private readonly runs = new Map<string, Promise<MlflowRun | undefined>>()

  constructor(private readonly ws: Workspace) {}

  /** A run by id (cached for this gate); undefined when MLflow does not know it. */
  getRun(runId: string): Promise<MlflowRun | undefined> {
    let run = this.runs.get(runId)
    if (!run) {
      run = this.fetchRun(runId)
      // A failure is not cached: a later caller tries again.
      run.catch(() => this.runs.delete(runId))
      this.runs.set(runId, run)
    }
    return run
  }

  /** Forgets what was read, so that metrics logged since are seen. */
  forget(): void {
    this.runs.clear()
  }

  private async fetchRun(runId: string): Promise<MlflowRun | undefined> {
    const url = `${await this.ws.mlflowUrl()}/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}`
    const response = await this.ws.dataPlane.send<{ run?: WireRun }>(`Read MLflow run ${runId}`, {
      method: 'GET',
      url
    })
    if (response.status === 404 || !response.body?.run) return undefined
    return toRun(response.body.run, runId)
  }

  /**
   * The direct children of a run (`tags.mlflow.parentRunId`), every page, each also cached
   * as if read by getRun.
   */
  async children(parent: MlflowRun): Promise<MlflowRun[]> {
    const url = `${await this.ws.mlflowUrl()}/api/2.0/mlflow/runs/search`
    const found: MlflowRun[] = []
    let pageToken: string | undefined
    do {
      const body: Record<string, unknown> = {
        experiment_ids: [parent.experimentId],
        filter: `tags.mlflow.parentRunId = '${parent.id.replace(/'/g, "\\'")}'`,
        run_view_type: 'ACTIVE_ONLY',
        max_results: SEARCH_PAGE
      }
      if (pageToken) body.page_token = pageToken
      const response = await this.ws.dataPlane.send<{ runs?: WireRun[]; next_page_token?: string }>(
        `Search the MLflow runs under ${parent.id}`,
        { method: 'POST', url, body }
      )
      if (response.status === 404) break
      for (const wire of response.body?.runs ?? []) {
        const run = toRun(wire)
        if (!run.id) continue
        found.push(run)
        this.runs.set(run.id, Promise.resolve(run))
      }
      pageToken = response.body?.next_page_token || undefined
    } while (pageToken)
    return found
  }

  /** Every logged value of a metric, following page_token through all pages. */
  async metricHistory(runId: string, key: string): Promise<MlflowMetric[]> {
    const base = `${await this.ws.mlflowUrl()}/api/2.0/mlflow/metrics/get-history`
    const values: MlflowMetric[] = []
    let pageToken: string | undefined
    do {
      const query = new URLSearchParams({ run_id: runId, metric_key: key })
      if (pageToken) query.set('page_token', pageToken)
      const response = await this.ws.dataPlane.send<{
        metrics?: WireMetric[]
        next_page_token?: string
      }>(`Read the history of MLflow metric '${key}' of run ${runId}`, {
        method: 'GET',
        url: `${base}?${query.toString()}`
      })
      if (response.status === 404) {
        throw new UserError(`MLflow has no run '${runId}' (reading the history of '${key}').`)
      }
      for (const metric of response.body?.metrics ?? []) values.push(toMetric(metric, key))
      pageToken = response.body?.next_page_token || undefined
    } while (pageToken)
    return values
  }
}

const clients = new WeakMap<Workspace, MlflowClient>()

/** The one MLflow client of a workspace, so that every source shares its cache. */
export function mlflowOf(ws: Workspace): MlflowClient {
  let client = clients.get(ws)
  if (!client) {
    client = new MlflowClient(ws)
    clients.set(ws, client)
  }
  return client
}

export function toRun(wire: WireRun, fallbackId = ''): MlflowRun {
  const info = wire.info ?? {}
  const metrics = new Map<string, MlflowMetric>()
  for (const metric of wire.data?.metrics ?? []) {
    if (typeof metric.key === 'string') metrics.set(metric.key, toMetric(metric, metric.key))
  }
  return {
    id: info.run_id ?? info.run_uuid ?? fallbackId,
    experimentId: String(info.experiment_id ?? ''),
    name: info.run_name,
    endTime: int64(info.end_time),
    metrics,
    params: keyValues(wire.data?.params),
    tags: keyValues(wire.data?.tags)
  }
}

function toMetric(metric: WireMetric, key: string): MlflowMetric {
  return {
    key: metric.key ?? key,
    value: typeof metric.value === 'string' ? Number(metric.value) : (metric.value ?? NaN),
    timestamp: int64(metric.timestamp) ?? 0,
    step: int64(metric.step) ?? 0
  }
}

/** int64 arrives as a number from MLflow's own server and as a string from Azure. */
function int64(value: number | string | undefined): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const number = Number(value)
  return Number.isFinite(number) ? number : undefined
}

function keyValues(pairs: WireKeyValue[] | undefined): Map<string, string> {
  const map = new Map<string, string>()
  for (const pair of pairs ?? []) {
    if (typeof pair.key === 'string' && pair.value !== undefined && pair.value !== null) {
      map.set(pair.key, String(pair.value))
    }
  }
  return map
}
