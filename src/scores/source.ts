import type { RunInfo } from '../azureml/runs.js'

export type MetricSource = 'tag' | 'mlflow-metric' | 'property'

export const METRIC_SOURCES: readonly MetricSource[] = ['tag', 'mlflow-metric', 'property']

/** One place a pipeline can keep a score. */
export interface ScoreSource {
  readonly kind: MetricSource
  /** The value of `name` on `run` as exact decimal text, or undefined when the run has none. */
  read(run: RunInfo, name: string): Promise<string | undefined>
  /** Optional: read many steps of `parent` at once before `read` is called on each. */
  prepare?(parent: RunInfo, steps: RunInfo[]): Promise<void>
}

/** How a source is named in messages: "tag", "MLflow metric", "property". */
export function describeSource(kind: MetricSource): string {
  return kind === 'mlflow-metric' ? 'MLflow metric' : kind
}
