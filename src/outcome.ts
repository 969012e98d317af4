import type { Big } from 'big.js'
import type { ChampionLookup, VersionInfo } from './azureml/models.js'
import type { RunInfo } from './azureml/runs.js'
import type { Workspace } from './azureml/workspace.js'
import type { Decision, Reason } from './decision.js'
import type { GuardrailResult, Measured } from './guardrails.js'
import type { Config } from './inputs.js'
import type { ScoreSource } from './scores/source.js'

/** The score read from the run, and where it came from. */
export interface Candidate {
  /** The run that holds the score: the pipeline run or its training step */
  source: RunInfo
  /** Where on that run (tag, MLflow metric, property): read further metrics the same way */
  scoreSource: ScoreSource
  value: Big
  /** The score as exact decimal text, recorded as is */
  text: string
  modelType: string
  /** The guardrail metrics, read from the same run as the score */
  guardrails?: ReadonlyMap<string, Measured>
}

/** What the gate knows once the run is read: every later step works from this. */
export interface GateContext {
  config: Config
  ws: Workspace
  /** The pipeline (parent) run */
  run: RunInfo
  candidate: Candidate
  /** azureml://jobs/<run>/outputs/artifacts/paths/<artifact-path> */
  modelUri: string
  /** Where the model landed in the run: artifact-path, or a sibling after an interrupted upload */
  artifactPath: string
}

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
  /** Whether the score alone passes the rule */
  metricPassed: boolean
  /** Every guardrail, evaluated: name, op, bound, limit, candidate, champion, passed */
  guardrails: GuardrailResult[]
  modelType: string
  runId: string
  /** tag | mlflow-metric | property */
  metricSource: string
  /** The run the score came from (also output as tags-source) */
  metricRunId: string
  /** How the champion's score was read when its version records none, e.g. from its job */
  championNote: string
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

export function buildOutcome(
  { config, ws, run, candidate, modelUri }: GateContext,
  decision: Decision,
  lookup: ChampionLookup,
  registered?: VersionInfo
): Outcome {
  const studio = config.cloud.studioUrl
  const wsid = encodeURIComponent(ws.id)
  const version = registered?.version ?? ''
  const champion = lookup.champion
  return {
    // In a dry run nothing is registered by this step, even when a version already holds the model.
    registered: Boolean(registered) && !config.dryRun,
    reason: decision.reason,
    why: config.dryRun
      ? `Dry run, nothing written. ${decision.why.replace(/^Registered/, 'Would register')}`
      : decision.why,
    dryRun: config.dryRun,
    modelName: config.modelName,
    modelVersion: version,
    modelId: registered
      ? registered.id || `${ws.id}/models/${config.modelName}/versions/${version}`
      : '',
    modelUri: registered ? `azureml:${config.modelName}:${version}` : '',
    artifactUri: config.dryRun ? '' : modelUri,
    metric: config.metric,
    metricValue: candidate.text,
    higherIsBetter: config.rule.higherIsBetter,
    championVersion: champion?.version ?? '',
    championValue: champion?.rawValue?.trim() ?? '',
    improvement: decision.improvement?.toString() ?? '',
    metricPassed: decision.metricPassed,
    guardrails: decision.guardrails,
    modelType: candidate.modelType,
    runId: run.id,
    metricSource: candidate.scoreSource.kind,
    metricRunId: candidate.source.id,
    championNote: champion?.note ?? '',
    tagsSource: candidate.source.id,
    history: lookup.history.map(h => ({ version: h.version, value: h.value.toString() })),
    links: {
      run: `${studio}/runs/${encodeURIComponent(run.id)}?wsid=${wsid}`,
      model: registered
        ? `${studio}/model/${encodeURIComponent(config.modelName)}:${version}/details?wsid=${wsid}`
        : ''
    },
    rule: {
      minImprovement: config.rule.minImprovement.toString(),
      minRelativeImprovement: config.rule.minRelativeImprovement.toString(),
      threshold: config.rule.threshold?.toString() ?? '',
      compareTo:
        config.compareTo.kind === 'tag'
          ? `tag:${config.compareTo.key}=${config.compareTo.value}`
          : config.compareTo.kind
    }
  }
}
