import { UserError } from '../errors.js'
import { fromHistory, listChildren, type HistoryRun, type RunInfo } from './runs.js'
import type { Workspace } from './workspace.js'

/** The levels of a pipeline's step tree, as findNamedStep walks them. */
export interface StepLevels {
  readonly pipeline: RunInfo
  top(): Promise<RunInfo[]>
  all(): Promise<RunInfo[]>
  childrenOf(parent: RunInfo): Promise<RunInfo[]>
}

/**
 * The steps of a pipeline run, read from run history level by level and only as deep as a
 * search needs: a flat pipeline costs one listing, a sub-pipeline one more per level. A reused
 * step (`azureml.isreused`) stands for the run it reused, whose tags and metrics it lacks.
 */
export class StepTree implements StepLevels {
  private readonly levels = new Map<string, Promise<RunInfo[]>>()

  constructor(
    private readonly ws: Workspace,
    readonly pipeline: RunInfo
  ) {}

  /** The direct steps of the pipeline run. */
  top(): Promise<RunInfo[]> {
    return this.childrenOf(this.pipeline)
  }

  /** Every step at every depth, depth-first (a sub-pipeline, then its steps). */
  async all(): Promise<RunInfo[]> {
    const walk = async (runs: RunInfo[]): Promise<RunInfo[]> => {
      const below = await Promise.all(runs.map(run => this.childrenOf(run).then(walk)))
      return runs.flatMap((run, i) => [run, ...below[i]])
    }
    return walk(await this.top())
  }

  childrenOf(parent: RunInfo): Promise<RunInfo[]> {
    // A reused step's children are those of the run it reused.
    const id = parent.id
    let level = this.levels.get(id)
    if (!level) {
      level = listChildren(this.ws, parent).then(steps =>
        Promise.all(steps.map(step => this.original(step)))
      )
      level.catch(() => this.levels.delete(id))
      this.levels.set(id, level)
    }
    return level
  }

  /** A reused step read as the run it reused, keeping the step's names and place. */
  private async original(step: RunInfo): Promise<RunInfo> {
    const reusedId = step.properties?.['azureml.reusedrunid']
    if (step.properties?.['azureml.isreused'] !== 'true' || !reusedId || reusedId === step.id) {
      return step
    }
    const url = `${await this.ws.historyUrl()}/runs/${encodeURIComponent(reusedId)}`
    const response = await this.ws.dataPlane.send<HistoryRun>(
      `Read run ${reusedId}, reused by step ${step.id}`,
      { method: 'GET', url }
    )
    if (response.status === 404 || !response.body?.runId) {
      throw new UserError(
        `Step ${step.displayName ?? step.name} (${step.id}) reused run ${reusedId}, which run history no longer has.`
      )
    }
    const original = fromHistory(response.body, this.pipeline)
    return {
      ...step,
      id: original.id,
      tags: original.tags,
      properties: original.properties,
      reusedFrom: step.id
    }
  }
}

/** How a step is named in messages: `train_step (run-id)`, with its path when nested. */
export function describeStep(run: RunInfo): string {
  const name = run.path ?? run.displayName ?? run.name
  return run.reusedFrom ? `${name} (${run.reusedFrom}, reusing ${run.id})` : `${name} (${run.id})`
}

/**
 * The steps named `stepName`: a display name (else a name) at the shallowest level where any
 * matches, or a path `subgraph/train_step` matched level by level. Several matches are an
 * error listing them: the first one is not silently taken.
 */
export async function findNamedStep(tree: StepLevels, stepName: string): Promise<RunInfo> {
  const parts = stepName.split('/').filter(part => part !== '')
  if (parts.length > 1) {
    let current: RunInfo = tree.pipeline
    for (const part of parts) current = pick(await tree.childrenOf(current), part, stepName, tree)
    return current
  }
  const top = await tree.top()
  if (matching(top, stepName).length > 0) return pick(top, stepName, stepName, tree)
  return pick(await tree.all(), stepName, stepName, tree)
}

function matching(steps: RunInfo[], name: string): RunInfo[] {
  const byDisplayName = steps.filter(step => step.displayName === name)
  return byDisplayName.length > 0 ? byDisplayName : steps.filter(step => step.name === name)
}

function pick(steps: RunInfo[], name: string, stepName: string, tree: StepLevels): RunInfo {
  const found = matching(steps, name)
  if (found.length === 1) return found[0]
  if (found.length > 1) {
    throw new UserError(
      `Several steps of run ${tree.pipeline.id} are named '${name}': ${found.map(describeStep).join(', ')}; name one by its path (e.g. subgraph/${name}) or rename it, then fix training-step-name.`
    )
  }
  throw new UserError(
    `No step named '${stepName}' in run ${tree.pipeline.id}; its steps are: ${steps.map(describeStep).join(', ') || 'none'}. Fix training-step-name (a sub-pipeline's step is written subgraph/step).`
  )
}
