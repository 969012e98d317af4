import type { Big } from 'big.js'
import { mlflowOf, type MlflowClient } from '../azureml/mlflow.js'
import type { RunInfo } from '../azureml/runs.js'
import { StepTree, describeStep, findNamedStep } from '../azureml/steps.js'
import type { Workspace } from '../azureml/workspace.js'
import { DECIMAL_BOUNDS, parseDecimal } from '../decision.js'
import { UserError, shorten } from '../errors.js'
import { ownValue } from '../records.js'
import { pollWaits } from '../retry.js'
import { mlflowSource, type Aggregation } from './mlflow.js'
import { propertySource } from './properties.js'
import { ScoreNotFound, findScore, type Found, type Steps } from './resolve.js'
import { describeSource, type MetricSource, type ScoreSource } from './source.js'
import { tagSource } from './tags.js'

/** What the metric-* inputs ask for. */
export interface ScoreSettings {
  metric: string
  metricSource: MetricSource | 'auto'
  metricAggregation: Aggregation
  trainingStepName?: string
  modelTypeTag: string
}

/** A score, its run and source, and the model type read from the same run. */
export interface Score {
  found: Found
  value: Big
  modelType: string
}

export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

const realClock: Clock = {
  now: () => Date.now(),
  sleep: ms => new Promise(resolve => setTimeout(resolve, ms))
}

/** A clock for which every run completed long ago: never waits for late metrics. */
export const NO_WAIT: Clock = {
  now: () => Number.POSITIVE_INFINITY,
  sleep: async () => undefined
}

/** Metrics can land a little after a run completes: how long to look again for them. */
export const LATE_METRICS_MS = 120_000

/** The sources in the order metric-source asks for: auto is tag, MLflow metric, property. */
export function sourcesFor(settings: ScoreSettings, client: MlflowClient): ScoreSource[] {
  const all: Record<MetricSource, ScoreSource> = {
    tag: tagSource,
    'mlflow-metric': mlflowSource(client, settings.metricAggregation),
    property: propertySource
  }
  return settings.metricSource === 'auto'
    ? [all.tag, all['mlflow-metric'], all.property]
    : [all[settings.metricSource]]
}

/** The score of a (completed) pipeline run, wherever `settings` say to look. */
export async function readScore(
  ws: Workspace,
  pipeline: RunInfo,
  settings: ScoreSettings,
  log: (message: string) => void,
  clock: Clock = realClock
): Promise<Score> {
  const client = mlflowOf(ws)
  const sources = sourcesFor(settings, client)
  const attempt = () => {
    const tree = new StepTree(ws, pipeline)
    const steps: Steps = {
      pipeline,
      top: () => tree.top(),
      all: () => tree.all(),
      named: name => findNamedStep(tree, name),
      describe: describeStep
    }
    return findScore(steps, sources, settings.metric, settings.trainingStepName)
  }
  const found = await patiently(
    attempt,
    async () => (await client.getRun(pipeline.id))?.endTime,
    () => client.forget(),
    log,
    clock
  )
  const what = `${describeSource(found.source.kind)} '${settings.metric}'`
  const value = parseDecimal(found.text)
  if (!value) {
    throw new UserError(
      `${what.charAt(0).toUpperCase()}${what.slice(1)} of run ${found.run.id} is '${shorten(found.text)}', not a finite decimal number (e.g. 0.9667; at most ${DECIMAL_BOUNDS.significantDigits} significant digits, exponent within ±${DECIMAL_BOUNDS.exponent}); fix how the pipeline records it.`
    )
  }
  return { found, value, modelType: await modelTypeOf(client, found.run, settings.modelTypeTag) }
}

/**
 * Looks again, with backoff, when no source holds the score yet and the run completed less
 * than LATE_METRICS_MS ago; the last look is at the deadline.
 */
export async function patiently<T>(
  attempt: () => Promise<T>,
  completedAt: () => Promise<number | undefined>,
  forget: () => void,
  log: (message: string) => void,
  clock: Clock
): Promise<T> {
  try {
    return await attempt()
  } catch (error) {
    if (!(error instanceof ScoreNotFound)) throw error
    const ended = await completedAt().catch(() => undefined)
    const start = clock.now()
    if (ended === undefined || start - ended >= LATE_METRICS_MS) throw error
    const deadline = start + LATE_METRICS_MS
    let last: ScoreNotFound = error
    for (const wait of pollWaits(deadline, () => clock.now(), 5_000, 2)) {
      log(
        `The run completed ${Math.round((start - ended) / 1000)} s ago and its score is not there yet; looking again in ${Math.round(wait / 1000)} s`
      )
      await clock.sleep(wait)
      forget()
      try {
        return await attempt()
      } catch (again) {
        if (!(again instanceof ScoreNotFound)) throw again
        last = again
      }
    }
    throw last
  }
}

/** The model type from the run the score came from: its tags, then its MLflow tags and params. */
async function modelTypeOf(client: MlflowClient, run: RunInfo, tag: string): Promise<string> {
  const own = ownValue(run.tags, tag)
  if (own !== undefined) return own
  const mlflow = await client.getRun(run.id).catch(() => undefined)
  return mlflow?.tags.get(tag) ?? mlflow?.params.get(tag) ?? ''
}
