import { UserError } from '../errors.js'
import { stringMap } from '../records.js'
import { pollWaits } from '../retry.js'
import { callError } from './http.js'
import type { Workspace } from './workspace.js'

/** The slice of a run the gate reads, for the pipeline run and its steps alike. */
export interface RunInfo {
  id: string
  name: string
  displayName?: string
  status: string
  experimentName: string
  tags: Record<string, string>
  properties?: Record<string, string>
  /** The run this one is a step of */
  parentId?: string
  /** Where the step sits in the pipeline, e.g. `subgraph/train_step` */
  path?: string
  /** A reused step stands for the run it reused: this is the step's own run id */
  reusedFrom?: string
}

const TERMINAL = new Set(['Completed', 'Failed', 'Canceled', 'NotResponding'])

/** The pipeline (parent) run, through ARM: its name is its run id. */
export async function getPipelineRun(ws: Workspace, runId: string): Promise<RunInfo> {
  let job
  try {
    job = await ws.arm.jobs.get(ws.ref.resourceGroup, ws.ref.workspaceName, runId)
  } catch (error) {
    const failure = callError(`Get job ${runId}`, error)
    if (failure.status === 404) {
      // A missing workspace, resource group or subscription is a 404 too: that answer (from
      // the workspace read already under way) names what is really missing.
      await ws.historyUrl()
      throw new UserError(
        `Run '${runId}' was not found in workspace '${ws.ref.workspaceName}'; check run-id (the pipeline job's name, e.g. from 'az ml job create --query name').`
      )
    }
    throw failure
  }
  const properties = job.properties
  return {
    id: job.name ?? runId,
    name: job.name ?? runId,
    displayName: properties?.displayName,
    status: properties?.status ?? 'Unknown',
    experimentName: properties?.experimentName ?? 'Default',
    tags: stringMap(properties?.tags),
    properties: stringMap(properties?.properties)
  }
}

/**
 * Returns the run once Completed. With waitMinutes > 0, polls with backoff until the run
 * reaches a terminal status or the time is up, looking once more at the deadline itself; any
 * other terminal status is an error.
 */
export async function waitForCompletion(
  ws: Workspace,
  run: RunInfo,
  waitMinutes: number,
  log: (message: string) => void,
  sleep: (ms: number) => Promise<void> = ms => new Promise(resolve => setTimeout(resolve, ms)),
  now: () => number = Date.now
): Promise<RunInfo> {
  const deadline = now() + waitMinutes * 60_000
  let current = run
  for (const wait of pollWaits(deadline, now, 2_000, 1.5)) {
    if (TERMINAL.has(current.status)) break
    log(`Run ${run.id} is ${current.status}; checking again in ${Math.ceil(wait / 1000)} s`)
    await sleep(wait)
    current = await getPipelineRun(ws, run.id)
  }
  if (current.status === 'Completed') return current
  if (TERMINAL.has(current.status)) {
    throw new UserError(
      `Run '${run.id}' ended ${current.status}, not Completed: there is no trained model to gate.`
    )
  }
  const advice =
    waitMinutes > 0
      ? `it did not complete within wait-minutes (${waitMinutes}); raise wait-minutes`
      : 'set wait-minutes to wait for it, or run this step after the pipeline finishes'
  throw new UserError(`Run '${run.id}' is ${current.status}, not Completed; ${advice}.`)
}

export interface HistoryRun {
  runId: string
  name?: string
  displayName?: string
  status?: string
  tags?: Record<string, unknown>
  properties?: Record<string, unknown>
}

/** Every step of the pipeline run, following nextLink through all pages. */
export async function listChildren(ws: Workspace, parent: RunInfo): Promise<RunInfo[]> {
  const children: RunInfo[] = []
  let url: string | null | undefined =
    `${await ws.historyUrl()}/runs/${encodeURIComponent(parent.id)}/children`
  while (url) {
    const page: { body: { value?: HistoryRun[]; nextLink?: string | null }; status: number } =
      await ws.dataPlane.send('List the steps of run ' + parent.id, { method: 'GET', url })
    if (page.status === 404) {
      throw new UserError(
        `Run history has no run '${parent.id}' in workspace '${ws.ref.workspaceName}'.`
      )
    }
    for (const run of page.body?.value ?? []) children.push(fromHistory(run, parent))
    url = page.body?.nextLink
  }
  return children
}

/** A run-history run as a step of `parent`. */
export function fromHistory(run: HistoryRun, parent: RunInfo): RunInfo {
  const label = run.displayName ?? run.name ?? run.runId
  return {
    id: run.runId,
    name: run.name ?? run.runId,
    displayName: run.displayName,
    status: run.status ?? 'Unknown',
    experimentName: parent.experimentName,
    tags: stringMap(run.tags),
    properties: stringMap(run.properties),
    parentId: parent.id,
    path: parent.path ? `${parent.path}/${label}` : label
  }
}
