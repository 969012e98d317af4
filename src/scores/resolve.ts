import type { RunInfo } from '../azureml/runs.js'
import { UserError } from '../errors.js'
import { describeSource, type ScoreSource } from './source.js'

/** Where the score was found. */
export interface Found {
  run: RunInfo
  source: ScoreSource
  text: string
}

/** What the search needs to know of the pipeline's steps (src/azureml/steps.ts). */
export interface Steps {
  pipeline: RunInfo
  /** Direct steps of the pipeline run */
  top(): Promise<RunInfo[]>
  /** Every step at every depth, depth-first */
  all(): Promise<RunInfo[]>
  /** The step training-step-name names; an error when none or several */
  named(stepName: string): Promise<RunInfo>
  describe(run: RunInfo): string
}

/** Thrown when no source holds the score: the one failure that waiting can cure. */
export class ScoreNotFound extends UserError {}

/**
 * The score, from the first source (in order) that has it on the pipeline run, then on the
 * training step: the step training-step-name names, or else the one step that has it (top
 * level first, then the whole tree). Several steps with it are an error listing them.
 */
export async function findScore(
  steps: Steps,
  sources: readonly ScoreSource[],
  metric: string,
  stepName: string | undefined
): Promise<Found> {
  const { pipeline } = steps
  let listing: Promise<unknown> | undefined
  for (const source of sources) {
    // Reading MLflow costs a round trip: list the steps meanwhile, in case they are needed.
    if (source.kind === 'mlflow-metric') listing ??= quiet(steps.top())
    const text = await source.read(pipeline, metric)
    if (text !== undefined) return { run: pipeline, source, text }
  }
  if (stepName) {
    const step = await steps.named(stepName)
    for (const source of sources) {
      const text = await source.read(step, metric)
      if (text !== undefined) return { run: step, source, text }
    }
    throw new ScoreNotFound(
      `${what(sources, metric)} was found neither on pipeline run ${pipeline.id} nor on its step ${steps.describe(step)}${seen(step)}. Fix metric, metric-source or training-step-name.`
    )
  }
  const top = await steps.top()
  const found =
    (await holding(steps, top, sources, metric)) ?? (await deeper(steps, sources, metric))
  if (found) return found
  const searched = [`pipeline run ${pipeline.id}`, ...(await steps.all()).map(steps.describe)]
  throw new ScoreNotFound(
    `${what(sources, metric)} was not found on ${searched.join(', ')}; log it on the pipeline run or its training step, or fix metric or metric-source.`
  )
}

async function deeper(
  steps: Steps,
  sources: readonly ScoreSource[],
  metric: string
): Promise<Found | undefined> {
  const key = (run: RunInfo) => `${run.path ?? ''}|${run.id}`
  const top = new Set((await steps.top()).map(key))
  const nested = (await steps.all()).filter(run => !top.has(key(run)))
  return nested.length > 0 ? holding(steps, nested, sources, metric) : undefined
}

/** The one step that has the score, by the first source any step has it in. */
async function holding(
  steps: Steps,
  candidates: RunInfo[],
  sources: readonly ScoreSource[],
  metric: string
): Promise<Found | undefined> {
  for (const source of sources) {
    await source.prepare?.(steps.pipeline, candidates)
    const texts = await Promise.all(candidates.map(step => source.read(step, metric)))
    const found = candidates
      .map((run, i) => ({ run, source, text: texts[i] }))
      .filter((hit): hit is Found => hit.text !== undefined)
    if (found.length === 1) return found[0]
    if (found.length > 1) {
      throw new UserError(
        `Several steps of run ${steps.pipeline.id} have the ${describeSource(source.kind)} '${metric}': ${found.map(hit => `${steps.describe(hit.run)} = ${hit.text}`).join(', ')}; set training-step-name to choose one.`
      )
    }
  }
  return undefined
}

function what(sources: readonly ScoreSource[], metric: string): string {
  const kinds = sources.map(source => describeSource(source.kind))
  const list = kinds.length > 1 ? `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}` : kinds[0]
  return `${list.charAt(0).toUpperCase()}${list.slice(1)} '${metric}'`
}

function seen(step: RunInfo): string {
  const tags = Object.keys(step.tags)
  return tags.length ? ` (its tags: ${tags.join(', ')})` : ''
}

function quiet<T>(promise: Promise<T>): Promise<T | undefined> {
  return promise.catch(() => undefined)
}
