import * as core from '@actions/core'
import { createCredential } from './auth.js'
import { artifactExists, artifactUriOf, uploadToRun } from './azureml/artifacts.js'
import { explainAccess, type Caller } from './azureml/http.js'
import {
  findChampion,
  findVersionHolding,
  getVersion,
  nextVersion,
  registerVersion,
  registeredBefore,
  sameUri,
  type ChampionLookup,
  type Registration
} from './azureml/models.js'
import {
  getPipelineRun,
  listChildren,
  selectTrainingStep,
  waitForCompletion,
  type RunInfo
} from './azureml/runs.js'
import { Workspace, workspaceIdOf } from './azureml/workspace.js'
import { decide, parseDecimal, type Decision } from './decision.js'
import { UserError, maskTokens, messageOf } from './errors.js'
import { readConfig, type Config } from './inputs.js'
import { provenanceProperties, readGitHubRun } from './provenance.js'
import { commentOnPullRequest } from './pullrequest.js'
import { buildOutcome, type Candidate, type GateContext, type Outcome } from './outcome.js'
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
    await commentOnPullRequest(config, outcome)
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

async function gate(config: Config): Promise<Outcome> {
  const ws = await Workspace.connect(
    {
      subscriptionId: config.subscriptionId,
      resourceGroup: config.resourceGroup,
      workspaceName: config.workspaceName,
      armEndpoint: config.cloud.armEndpoint
    },
    maskTokens(createCredential(config.auth, config.cloud))
  )
  const { run, registry } = await core.group('Read the run and the registered model', () =>
    readRunAndRegistry(ws, config)
  )
  const candidate = await core.group('Read the score from the run tags', () =>
    readCandidate(ws, run, config)
  )
  warnSkippedVersions(registry.lookup, config)
  const modelUri = artifactUriOf(run.id, config.artifactPath, config.model)
  const context: GateContext = { config, ws, run, candidate, modelUri }
  const uploadedBefore = await core.group('Upload the model to the pipeline run', () =>
    uploadModel(context)
  )
  if (uploadedBefore) {
    const previous = await previousRegistration(context, registry.lookup)
    if (previous) return previous
  }
  return core.group('Decide and register', () => decideAndRegister(context, registry))
}

/** The champion to beat and the version number to take next. */
interface Registry {
  lookup: ChampionLookup
  nextVersion: string
}

/**
 * Everything that depends only on the inputs goes out at once: the workspace (for the data
 * plane host), the run, the champion and the next version number.
 */
async function readRunAndRegistry(
  ws: Workspace,
  config: Config
): Promise<{ run: RunInfo; registry: Registry }> {
  ws.historyUrl().catch(() => undefined)
  const [first, registry] = await Promise.all([
    getPipelineRun(ws, config.runId),
    readRegistry(ws, config)
  ])
  if (first.status === 'Completed') return { run: first, registry }
  const run = await waitForCompletion(ws, first, config.waitMinutes, core.info)
  // The registry may have moved on while we waited.
  return { run, registry: await readRegistry(ws, config) }
}

async function readRegistry(ws: Workspace, config: Config): Promise<Registry> {
  const [lookup, next] = await Promise.all([
    findChampion(ws, config.modelName, config.metric, config.compareTo, config.rule.higherIsBetter),
    config.dryRun ? '' : nextVersion(ws, config.modelName)
  ])
  return { lookup, nextVersion: next }
}

/** The score and model type, from the pipeline run's tags or else its training step's. */
async function readCandidate(ws: Workspace, run: RunInfo, config: Config): Promise<Candidate> {
  let source = run
  if (!(config.metric in run.tags)) {
    core.info(`Run ${run.id} has no '${config.metric}' tag; looking at its steps`)
    const steps = await listChildren(ws, run)
    source = selectTrainingStep(run, steps, config.metric, config.trainingStepName)
  }
  const text = source.tags[config.metric].trim()
  const value = parseDecimal(text)
  if (!value) {
    throw new UserError(
      `Tag '${config.metric}' of run ${source.id} is '${text}', not a finite decimal number (e.g. 0.9667); fix how the pipeline tags it.`
    )
  }
  const modelType = source.tags[config.modelTypeTag] ?? ''
  if (!modelType) {
    core.warning(
      `Run ${source.id} has no '${config.modelTypeTag}' tag; the model type is not recorded. Set model-type-tag if it is named otherwise.`
    )
  }
  core.info(`${config.metric} = ${text} from run ${source.id}${modelType ? ` (${modelType})` : ''}`)
  return { source, value, text, modelType }
}

function warnSkippedVersions(lookup: ChampionLookup, config: Config): void {
  for (const skipped of lookup.skipped) {
    const what =
      skipped.rawValue === undefined
        ? `no '${config.metric}' property`
        : `a non-numeric '${config.metric}' property ('${skipped.rawValue}')`
    core.warning(
      `Version ${skipped.version} of ${config.modelName} has ${what}; it is skipped as a champion.`
    )
  }
}

/**
 * Uploads the model to the pipeline run (a dry run only looks). True when the run already held
 * this exact model: a re-run, so a version may already hold it.
 */
async function uploadModel({ config, ws, run }: GateContext): Promise<boolean> {
  if (config.dryRun) return artifactExists(ws, run, config.model, config.artifactPath)
  const upload = await uploadToRun(ws, run, config.model, config.artifactPath)
  const reused = upload.reused ? ` (${upload.reused} already there with the same content)` : ''
  core.info(`${upload.files} file(s), ${upload.bytes} bytes at ${upload.artifactUri}${reused}`)
  return upload.reused === upload.files
}

/** A re-run's outcome: the version that already holds this run's model, if there is one. */
async function previousRegistration(
  context: GateContext,
  lookup: ChampionLookup
): Promise<Outcome | undefined> {
  const { config, ws, run, candidate, modelUri } = context
  const { modelName, metric } = config
  const existing = await findVersionHolding(ws, modelName, metric, run.id, modelUri, lookup.history)
  if (!existing) return undefined
  // Report the champion it was compared against then, as the first run did.
  const then =
    lookup.champion && registeredBefore(lookup.champion, existing)
      ? lookup
      : await findChampion(
          ws,
          modelName,
          metric,
          config.compareTo,
          config.rule.higherIsBetter,
          existing
        )
  const decision: Decision = {
    ...decide(candidate.value, then.champion, config.rule, config.force),
    register: false,
    reason: 'already-registered',
    why: `Version ${existing.version} of ${modelName} already holds this run's model; nothing new was registered.`
  }
  return buildOutcome(context, decision, { ...lookup, champion: then.champion }, existing)
}

/**
 * Decides, and registers when the candidate wins. Versions are immutable, so when a concurrent
 * run takes the version number first, the rival becomes the champion to beat and the next
 * number is tried, a bounded number of times.
 */
async function decideAndRegister(context: GateContext, registry: Registry): Promise<Outcome> {
  const { config, ws, run, candidate, modelUri } = context
  let { lookup, nextVersion: version } = registry
  for (let attempt = 1; ; attempt++) {
    const decision = decide(candidate.value, lookup.champion, config.rule, config.force)
    core.info(decision.why)
    if (!decision.register || config.dryRun) return buildOutcome(context, decision, lookup)
    const registration = registrationFor(context, decision, lookup.champion)
    const result = await registerVersion(ws, config.modelName, version, registration, config.metric)
    if (result.kind === 'registered') return buildOutcome(context, decision, lookup, result.version)
    // Taken: by an earlier attempt of ours whose answer was lost, or by a rival run.
    const holder = await getVersion(ws, config.modelName, version, config.metric)
    if (holder?.jobName === run.id && sameUri(holder.modelUri, modelUri)) {
      return buildOutcome(context, decision, lookup, holder)
    }
    if (attempt >= REGISTER_ATTEMPTS) {
      throw new UserError(
        `Version ${version} of ${config.modelName} was taken by another run ${attempt} times; serialise registrations with a 'concurrency:' group per model name.`
      )
    }
    core.warning(
      `Version ${version} of ${config.modelName} was just registered by ${holder?.jobName ?? 'another run'}; comparing against it and trying again.`
    )
    ;({ lookup, nextVersion: version } = await readRegistry(ws, config))
  }
}

/** What the new version records, so that the next run can compare against it. */
function registrationFor(
  { config, run, candidate, modelUri }: GateContext,
  decision: Decision,
  champion: ChampionLookup['champion']
): Registration {
  const recorded: Record<string, string> = { [config.metric]: candidate.text }
  if (candidate.modelType) recorded.model_type = candidate.modelType
  const properties: Record<string, string> = {
    ...config.properties,
    ...recorded,
    framework: config.framework
  }
  if (config.frameworkVersion) properties.framework_version = config.frameworkVersion
  const verdict = { decision, metric: config.metric, rule: config.rule, champion }
  Object.assign(properties, provenanceProperties(readGitHubRun(), verdict))
  return {
    modelUri,
    modelType: config.assetType,
    jobName: run.id,
    description:
      config.description ??
      `Registered from pipeline run ${run.id} by azureml-model-gate: ${config.metric}=${candidate.text} (${decision.reason}).`,
    tags: { ...config.tags, ...recorded, gate_reason: decision.reason },
    properties
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
    workspaceId: workspaceIdOf(config)
  }
}
