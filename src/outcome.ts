import type { Reason } from './decision.js'

/** Everything the gate concluded: what report.ts turns into outputs and a summary. */
export interface Outcome {
  registered: boolean
  reason: Reason
  /** One sentence: the decision and why */
  why: string
  dryRun: boolean
  modelName: string
  modelVersion: string
  modelId: string
  modelUri: string
  artifactUri: string
  metric: string
  metricValue: string
  higherIsBetter: boolean
  championVersion: string
  championValue: string
  improvement: string
  modelType: string
  runId: string
  tagsSource: string
  /** Newest versions with a score, newest first, for the chart */
  history: { version: string; value: string }[]
  links: { run: string; model: string }
  rule: {
    minImprovement: string
    minRelativeImprovement: string
    threshold: string
    compareTo: string
  }
}
