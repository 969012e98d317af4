import * as core from '@actions/core'
import type { Big } from 'big.js'
import { createCredential } from './auth.js'
import { artifactExists, artifactUriOf, uploadToRun } from './azureml/artifacts.js'
import {
  findChampion,
  findVersionHolding,
  getVersion,
  nextVersion,
  registerVersion,
  registeredBefore,
  type ChampionLookup,
  type Registration,
  type VersionInfo
} from './azureml/models.js'
import {
  getPipelineRun,
  listChildren,
  selectTrainingStep,
  waitForCompletion,
  type RunInfo
} from './azureml/runs.js'
import { explainAccess, type Caller } from './azureml/http.js'
import { Workspace } from './azureml/workspace.js'
import { decide, parseDecimal, type Decision } from './decision.js'
import { UserError, maskTokens, messageOf } from './errors.js'
import { readConfig, type Config } from './inputs.js'
import type { Outcome } from './outcome.js'
import { announce, setOutputs, writeDecisionFile, writeSummary } from './report.js'

/** Attempts at registering when concurrent runs keep taking the next version number. */
const REGISTER_ATTEMPTS = 5

/**
 * The flow, top to bottom: inputs → credential → workspace → run tags → {upload ‖ champion}
 * → decide → register → report.
 */
export async function run(): Promise<void> {
  let config: Readonly<Config> | undefined
  try {
    config = readConfig()
    const outcome = await gate(config)
    setOutputs(outcome)
    announce(outcome)
    await writeSummary(outcome)
    if (config.decisionFile) await writeDecisionFile(config.decisionFile, outcome)
    if (config.failIfNotBetter && !outcome.registered) {
      core.setFailed(`fail-if-not-better is true and the model was not registered: ${outcome.why}`)
    }
  } catch (error) {
    // One line a person can act on; the stack only when step debug logging is on.
    if (debugging() && error instanceof Error && error.stack) core.debug(messageOf(error.stack))
    core.setFailed(messageOf(config ? explainAccess(error, callerOf(config)) : error))
  }
}

function debugging(): boolean {
  return core.isDebug() || process.env.ACTIONS_STEP_DEBUG === 'true'
}

/** Who signed in, and where: names the identity and workspace in a 401 or 403. */
function callerOf(config: Config): Caller {
  return {
    clientId: config.auth.kind === 'default' ? process.env.AZURE_CLIENT_ID : config.auth.clientId,
    workspaceName: config.workspaceName,
    workspaceId: `/subscriptions/${config.subscriptionId}/resourceGroups/${config.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${config.workspaceName}`
  }
}

async function gate(config: Config): Promise<Outcome> {
  const credential = maskTokens(createCredential(config.auth, config.cloud))
  const ws = await Workspace.connect(
    {
      subscriptionId: config.subscriptionId,
      resourceGroup: config.resourceGroup,
      workspaceName: config.workspaceName,
      armEndpoint: config.cloud.armEndpoint
    },
    credential
  )
  // Everything that depends only on the inputs goes out at once: the workspace (for the data
  // plane host), the run, the champion and the next version number.
  ws.historyUrl().catch(() => undefined)
  const lookupChampion = () =>
    findChampion(ws, config.modelName, config.metric, config.compareTo, config.rule.higherIsBetter)
  const [firstRun, firstLookup, firstVersion] = await core.group(
    'Read the run and the registered model',
    () =>
      Promise.all([
        getPipelineRun(ws, config.runId),
        lookupChampion(),
        config.dryRun ? Promise.resolve('') : nextVersion(ws, config.modelName)
      ])
  )
  let [lookup, version] = [firstLookup, firstVersion]
  let pipelineRun = firstRun
  if (pipelineRun.status !== 'Completed') {
    pipelineRun = await waitForCompletion(ws, pipelineRun, config.waitMinutes, core.info)
    // The registry may have moved on while we waited.
    ;[lookup, version] = await Promise.all([
      lookupChampion(),
      config.dryRun ? '' : nextVersion(ws, config.modelName)
    ])
  }

  const source = await core.group('Read the score from the run tags', () =>
    tagsSource(ws, pipelineRun, config)
  )
  const candidate = candidateScore(source, config)
  const modelType = source.tags[config.modelTypeTag] ?? ''
  if (!modelType)
    core.warning(
      `Run ${source.id} has no '${config.modelTypeTag}' tag; the model type is not recorded. Set model-type-tag if it is named otherwise.`
    )
  core.info(
    `${config.metric} = ${candidate.text} from run ${source.id}${modelType ? ` (${modelType})` : ''}`
  )
  for (const skipped of lookup.skipped) {
    core.warning(
      `Version ${skipped.version} of ${config.modelName} has ${skipped.rawValue === undefined ? `no '${config.metric}' property` : `a non-numeric '${config.metric}' property ('${skipped.rawValue}')`}; it is skipped as a champion.`
    )
  }

  const modelUri = artifactUriOf(pipelineRun.id, config.artifactPath, config.model)
  const alreadyThere = await core.group('Upload the model to the pipeline run', async () => {
    if (config.dryRun) return artifactExists(ws, pipelineRun, config.model, config.artifactPath)
    const upload = await uploadToRun(ws, pipelineRun, config.model, config.artifactPath)
    core.info(
      `${upload.files} file(s), ${upload.bytes} bytes at ${upload.artifactUri}` +
        (upload.reused ? ` (${upload.reused} already there with the same content)` : '')
    )
    return upload.reused === upload.files
  })

  const base = {
    config,
    ws,
    pipelineRun,
    source,
    candidate,
    modelType,
    artifactUri: config.dryRun ? '' : modelUri
  }
  // A re-run: the artifact was already uploaded, so a version may already hold it.
  if (alreadyThere) {
    const existing = await findVersionHolding(
      ws,
      config.modelName,
      config.metric,
      pipelineRun.id,
      modelUri,
      lookup.history
    )
    if (existing) {
      // Report the champion it was compared against then, as the first run did.
      const then =
        lookup.champion && registeredBefore(lookup.champion, existing)
          ? lookup
          : await findChampion(
              ws,
              config.modelName,
              config.metric,
              config.compareTo,
              config.rule.higherIsBetter,
              existing
            )
      const decision: Decision = {
        ...decide(candidate.value, then.champion, config.rule, config.force),
        register: false,
        reason: 'already-registered',
        why: `Version ${existing.version} of ${config.modelName} already holds this run's model; nothing new was registered.`
      }
      return outcome(base, decision, { ...lookup, champion: then.champion }, existing)
    }
  }

  return core.group('Decide and register', async () => {
    for (let attempt = 1; ; attempt++) {
      const decision = decide(candidate.value, lookup.champion, config.rule, config.force)
      core.info(decision.why)
      if (!decision.register || config.dryRun) return outcome(base, decision, lookup)
      const registration = registrationFor(
        config,
        pipelineRun,
        candidate.text,
        modelType,
        modelUri,
        decision
      )
      const result = await registerVersion(
        ws,
        config.modelName,
        version,
        registration,
        config.metric
      )
      if (result.kind === 'registered') return outcome(base, decision, lookup, result.version)
      const holder = await getVersion(ws, config.modelName, version, config.metric)
      if (
        holder?.jobName === pipelineRun.id &&
        holder.modelUri?.replace(/\/$/, '') === modelUri.replace(/\/$/, '')
      ) {
        return outcome(base, decision, lookup, holder)
      }
      if (attempt >= REGISTER_ATTEMPTS) {
        throw new UserError(
          `Version ${version} of ${config.modelName} was taken by another run ${attempt} times; serialise registrations with a 'concurrency:' group per model name.`
        )
      }
      core.warning(
        `Version ${version} of ${config.modelName} was just registered by ${holder?.jobName ?? 'another run'}; comparing against it and trying again.`
      )
      ;[lookup, version] = await Promise.all([lookupChampion(), nextVersion(ws, config.modelName)])
    }
  })
}

async function tagsSource(ws: Workspace, run: RunInfo, config: Config): Promise<RunInfo> {
  if (config.metric in run.tags) return run
  core.info(`Run ${run.id} has no '${config.metric}' tag; looking at its steps`)
  return selectTrainingStep(
    run,
    await listChildren(ws, run),
    config.metric,
    config.trainingStepName
  )
}

function candidateScore(source: RunInfo, config: Config): { value: Big; text: string } {
  const text = source.tags[config.metric].trim()
  const value = parseDecimal(text)
  if (!value) {
    throw new UserError(
      `Tag '${config.metric}' of run ${source.id} is '${text}', not a finite decimal number (e.g. 0.9667); fix how the pipeline tags it.`
    )
  }
  return { value, text }
}

function registrationFor(
  config: Config,
  run: RunInfo,
  score: string,
  modelType: string,
  modelUri: string,
  decision: Decision
): Registration {
  const recorded: Record<string, string> = { [config.metric]: score }
  if (modelType) recorded.model_type = modelType
  const properties: Record<string, string> = {
    ...config.properties,
    ...recorded,
    framework: config.framework
  }
  if (config.frameworkVersion) properties.framework_version = config.frameworkVersion
  return {
    modelUri,
    modelType: config.assetType,
    jobName: run.id,
    description:
      config.description ??
      `Registered from pipeline run ${run.id} by azureml-model-gate: ${config.metric}=${score} (${decision.reason}).`,
    tags: { ...config.tags, ...recorded, gate_reason: decision.reason },
    properties
  }
}

interface OutcomeBase {
  config: Config
  ws: Workspace
  pipelineRun: RunInfo
  source: RunInfo
  candidate: { value: Big; text: string }
  modelType: string
  artifactUri: string
}

function outcome(
  base: OutcomeBase,
  decision: Decision,
  lookup: ChampionLookup,
  registered?: VersionInfo
): Outcome {
  const { config, ws, pipelineRun } = base
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
    artifactUri: base.artifactUri,
    metric: config.metric,
    metricValue: base.candidate.text,
    higherIsBetter: config.rule.higherIsBetter,
    championVersion: champion?.version ?? '',
    championValue: champion?.rawValue?.trim() ?? '',
    improvement: decision.improvement?.toString() ?? '',
    modelType: base.modelType,
    runId: pipelineRun.id,
    tagsSource: base.source.id,
    history: lookup.history.map(h => ({ version: h.version, value: h.value.toString() })),
    links: {
      run: `${studio}/runs/${encodeURIComponent(pipelineRun.id)}?wsid=${wsid}`,
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
