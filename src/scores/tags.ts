import type { RunInfo } from '../azureml/runs.js'
import { ownValue } from '../records.js'
import type { ScoreSource } from './source.js'

/** Run tags: `run.parent.tag(...)` (SDK v1), `mlflow.set_tag` shows here too. */
export const tagSource: ScoreSource = {
  kind: 'tag',
  read: async (run: RunInfo, name: string) => ownValue(run.tags, name)?.trim()
}
