import type { MlflowClient, MlflowMetric } from '../azureml/mlflow.js'
import type { RunInfo } from '../azureml/runs.js'
import type { ScoreSource } from './source.js'

/** How a metric logged as a series becomes one score. */
export type Aggregation = 'last' | 'max' | 'min'

export const AGGREGATIONS: readonly Aggregation[] = ['last', 'max', 'min']

/**
 * MLflow metrics (`mlflow.log_metric`). `last` is the latest value runs/get reports (highest
 * step, then latest timestamp); `max` and `min` read the metric's whole history.
 */
export function mlflowSource(client: MlflowClient, aggregation: Aggregation): ScoreSource {
  return {
    kind: 'mlflow-metric',
    async read(run: RunInfo, name: string) {
      const found = await client.getRun(run.id)
      const latest = found?.metrics.get(name)
      if (!latest) return undefined
      if (aggregation === 'last') return decimalText(latest.value)
      return decimalText(extreme(await client.metricHistory(run.id, name), aggregation, latest))
    },
    async prepare(parent: RunInfo, steps: RunInfo[]) {
      // One search answers for every direct child; nested and reused steps are read one by one.
      if (!steps.some(step => step.parentId === parent.id && !step.reusedFrom)) return
      const parentRun = await client.getRun(parent.id)
      if (parentRun?.experimentId) await client.children(parentRun)
    }
  }
}

function extreme(
  history: MlflowMetric[],
  aggregation: 'max' | 'min',
  latest: MlflowMetric
): number {
  const values = history.map(metric => metric.value).filter(value => !Number.isNaN(value))
  if (values.length === 0) return latest.value
  // reduce, not Math.max(...values): a long series would overflow the call stack.
  return values.reduce((a, b) => ((aggregation === 'max' ? b > a : b < a) ? b : a))
}

/**
 * MLflow hands metrics over as JSON doubles: the shortest decimal text that reads back as the
 * same double (ECMAScript's Number to String), so 0.9667 stays "0.9667".
 */
export function decimalText(value: number): string {
  return String(value)
}
