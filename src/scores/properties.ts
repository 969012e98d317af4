import type { RunInfo } from '../azureml/runs.js'
import { ownValue } from '../records.js'
import type { ScoreSource } from './source.js'

/** Run properties: `run.parent.add_properties(...)` (SDK v1). */
export const propertySource: ScoreSource = {
  kind: 'property',
  read: async (run: RunInfo, name: string) => ownValue(run.properties, name)?.trim()
}
