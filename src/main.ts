import * as core from '@actions/core'
import { callerOf, openWorkspace } from './auth.js'
import { artifactUriOf, findUpload, uploadToRun } from './azureml/artifacts.js'
import { explainAccess } from './azureml/http.js'
import {
  championBefore,
  findChampion,
  findVersionHolding,
  getVersion,
  nextVersion,
  registerVersion,
  registeredBefore,
  holdsRunModel,
  type ChampionLookup,
  type Registration,
  type RunModel
} from './azureml/models.js'
import { getPipelineRun, waitForCompletion, type RunInfo } from './azureml/runs.js'
import { Workspace } from './azureml/workspace.js'
import { decide, type Decision, type Reason } from './decision.js'
import { UserError, messageOf, shorten } from './errors.js'
import { readGuardrailValues } from './guardrails.js'
import { readConfig, withMlflowFlavors, type Config } from './inputs.js'
import { provenanceProperties, readGitHubRun } from './provenance.js'
import { commentOnPullRequest } from './pullrequest.js'
import { buildOutcome, type Candidate, type GateContext, type Outcome } from './outcome.js'
import { announce, setOutputs, writeDecisionFile, writeSummary } from './report.js'
import { readScore } from './scores/candidate.js'
import { withJobScores } from './scores/champion.js'
import { describeSource } from './scores/source.js'

/** The reasons a candidate loses for: a dry run is judged by what it would have done. */
const LOSING_REASONS: ReadonlySet<Reason> = new Set(['not-better', 'below-threshold'])

/** Attempts at registering when concurrent runs keep taking the next version number. */
const REGISTER_ATTEMPTS = 5

/**
 * The flow, top to bottom: inputs → credential → workspace → run tags → {upload ‖ champion}
 * → decide → register → report.
 */
export async function run(): Promise<void> {
  let config: Readonly<Config> | undefined
  try {
    config = await withMlflowFlavors(readConfig())
    const outcome = await gate(config)
    setOutputs(outcome)
    announce(outcome)
    await report(config, outcome)
    if (config.failIfNotBetter && LOSING_REASONS.has(outcome.reason)) {
      const was = outcome.dryRun ? 'would not be' : 'was not'
      core.setFailed(`fail-if-not-better is true and the model ${was} registered: ${outcome.why}`)
    }
  } catch (error) {
    // One line a person can act on; the stack only when step debug logging is on.
    if (debugging() && error instanceof Error && error.stack) core.debug(messageOf(error.stack))
    core.setFailed(
      messageOf(config ? explainAccess(error, callerOf(config, 'AzureML Data Scientist')) : error)
    )
  }
}

/**
 * The summary and the decision file report what happened; by now a version may be registered,
 * and the deploy job must see the step succeed, so a failure to write them only warns.
 */
async function report(config: Config, outcome: Outcome): Promise<void> {
  try {
    await writeSummary(outcome)
  } catch (error) {
    core.warning(`The job summary was not written: ${messageOf(error)}`)
  }
  await commentOnPullRequest(config, outcome)
  if (!config.decisionFile) return
  try {
    await writeDecisionFile(config.decisionFile, outcome)
  } catch (error) {
    core.warning(`decision-file ${config.decisionFile} was not written: ${messageOf(error)}`)
  }
}

async function gate(config: Config): Promise<Outcome> {
  const ws = await openWorkspace(config)
  const { run, registry: registryRead } = await core.group('Read the run', () =>
    readRunAndRegistry(ws, config)
  )
  const candidate = await core.group('Read the score from the run', async () =>
    withGuardrails(await readCandidate(ws, run, config), config)
  )
  const registry = await core.group('Read the registered model', () => registryRead)
  warnSkippedVersions(registry.lookup, config)
  requireChampion(registry.lookup, config, run.id)
  const upload = await core.group('Upload the model to the pipeline run', () =>
    uploadModel(config, ws, run)
  )
  // Where the model landed: artifact-path, or a sibling when an earlier upload was cut off.
  const artifactPath = upload.artifactPath ?? config.artifactPath
  const modelUri = artifactUriOf(run.id, artifactPath, config.model)
  const context: GateContext = { config, ws, run, candidate, modelUri, artifactPath }
  if (upload.before) {
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
 * plane host), the run, the champion and the next version number. The run is returned as soon
 * as it is read, with the registry still on its way: a score on the training step or in MLflow
 * is then asked for while the registry's answers are taken in, not after.
 */
async function readRunAndRegistry(
  ws: Workspace,
  config: Config
): Promise<{ run: RunInfo; registry: Promise<Registry> }> {
  ws.historyUrl().catch(() => undefined)
  // Its failure is reported where it is awaited, after the run's and the score's.
  const registry = readRegistry(ws, config)
  registry.catch(() => undefined)
  const first = await getPipelineRun(ws, config.runId)
  if (first.status === 'Completed') return { run: first, registry }
  const run = await waitForCompletion(ws, first, config.waitMinutes, core.info)
  // The registry may have moved on while we waited.
  const again = readRegistry(ws, config)
  again.catch(() => undefined)
  return { run, registry: again }
}

async function readRegistry(ws: Workspace, config: Config): Promise<Registry> {
  const [lookup, next] = await Promise.all([
    findChampion(
      ws,
      config.modelName,
      config.metric,
      config.compareTo,
      config.rule.higherIsBetter
    ).then(found => withJobScores(ws, found, { ...config, ...config.rule })),
    config.dryRun ? '' : nextVersion(ws, config.modelName)
  ])
  return { lookup, nextVersion: next }
}

/** The score and model type, from the pipeline run or its training step (metric-source). */
async function readCandidate(ws: Workspace, run: RunInfo, config: Config): Promise<Candidate> {
  const { found, value, modelType } = await readScore(ws, run, config, core.info)
  const where = `${found.source.kind} of run ${found.run.id}`
  if (!modelType) {
    core.warning(
      `Run ${found.run.id} has no '${config.modelTypeTag}' tag or MLflow param; the model type is not recorded. Set model-type-tag if it is named otherwise.`
    )
  }
  core.info(`${config.metric} = ${found.text} (${where})${modelType ? ` (${modelType})` : ''}`)
  return { source: found.run, scoreSource: found.source, value, text: found.text, modelType }
}

/** The guardrail metrics, from the same run and the same source as the score. */
async function withGuardrails(candidate: Candidate, config: Config): Promise<Candidate> {
  const rules = config.rule.guardrails ?? []
  if (rules.length === 0) return candidate
  const { source: run, scoreSource } = candidate
  const read = (name: string) => scoreSource.read(run, name)
  const where = `the ${describeSource(scoreSource.kind)}s of run ${run.id}`
  const guardrails = await readGuardrailValues(rules, read, where)
  const id = run.id
  for (const [name, { text }] of guardrails) core.info(`${name} = ${text} from run ${id}`)
  return { ...candidate, guardrails }
}

/** One line for all the versions that cannot be champions, however many there are. */
function warnSkippedVersions({ skipped }: ChampionLookup, config: Config): void {
  if (skipped.length === 0) return
  const one = skipped.length === 1
  const named = skipped
    .slice(0, NAMED_VERSIONS)
    .map(v => `${v.version} (${v.rawValue === undefined ? 'none' : `'${shorten(v.rawValue)}'`})`)
  const more = skipped.length > NAMED_VERSIONS ? ` and ${skipped.length - NAMED_VERSIONS} more` : ''
  core.warning(
    `${skipped.length} version${one ? '' : 's'} of ${config.modelName} ${one ? 'is' : 'are'} skipped as ${one ? 'a champion' : 'champions'}, having no numeric '${config.metric}' property: ${named.join(', ')}${more}.`
  )
}

/** Versions a message names before it only counts the rest. */
const NAMED_VERSIONS = 5

/**
 * Registering as 'first' while other versions exist would rank the candidate above versions
 * it was never compared with: most likely a typo in compare-to or metric, so it takes
 * allow-first. This run's own version (a re-run) does not count; force registers anyway.
 */
function requireChampion(lookup: ChampionLookup, config: Config, runId: string): void {
  if (lookup.champion || config.allowFirst || config.force) return
  const others = lookup.listed.filter(version => version.jobName !== runId)
  if (others.length === 0) return
  const { compareTo, metric, modelName } = config
  const which =
    compareTo.kind === 'tag'
      ? `no version tagged ${compareTo.key}=${compareTo.value} has`
      : 'no version has'
  const newest = others.slice(0, NAMED_VERSIONS).map(v => v.version)
  const more = others.length > NAMED_VERSIONS ? ', …' : ''
  throw new UserError(
    `No champion for ${modelName}: ${which} a numeric '${metric}' property, but it has ${others.length} version${others.length === 1 ? '' : 's'} (newest: ${newest.join(', ')}${more}). Registering as 'first' would ignore them: check compare-to and metric, or set allow-first: true.`
  )
}

/**
 * Uploads the model to the pipeline run (a dry run only looks). `before` when the run already
 * held this exact model: a re-run, so a version may already hold it.
 */
async function uploadModel(
  config: Config,
  ws: Workspace,
  run: RunInfo
): Promise<{ before: boolean; artifactPath?: string }> {
  if (config.dryRun) {
    const found = await findUpload(ws, run, config.model, config.artifactPath)
    return { before: found !== undefined, artifactPath: found }
  }
  const upload = await uploadToRun(ws, run, config.model, config.artifactPath, core.info)
  const reused = upload.reused ? ` (${upload.reused} already there with the same content)` : ''
  core.info(`${upload.files} file(s), ${upload.bytes} bytes at ${upload.artifactUri}${reused}`)
  return { before: upload.reused === upload.files, artifactPath: upload.artifactPath }
}

function runModelOf({ run, artifactPath, modelUri }: GateContext): RunModel {
  return { runId: run.id, artifactPath, modelUri }
}

/** A re-run's outcome: the version that already holds this run's model, if there is one. */
async function previousRegistration(
  context: GateContext,
  lookup: ChampionLookup
): Promise<Outcome | undefined> {
  const { config, ws, candidate } = context
  const { modelName, metric } = config
  const existing = await findVersionHolding(
    ws,
    modelName,
    metric,
    runModelOf(context),
    lookup.history
  )
  if (!existing) return undefined
  // Report the champion it was compared against then, as the first run did.
  const known = championBefore(lookup, existing, config.compareTo)
  const then =
    lookup.champion && registeredBefore(lookup.champion, existing)
      ? lookup
      : known
        ? { champion: known.champion }
        : await findChampion(
            ws,
            modelName,
            metric,
            config.compareTo,
            config.rule.higherIsBetter,
            existing
          ).then(found => withJobScores(ws, found, { ...config, ...config.rule }))
  const decision: Decision = {
    ...decide(candidate.value, then.champion, config.rule, config.force, candidate.guardrails),
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
  const { config, ws, candidate } = context
  const model = runModelOf(context)
  let { lookup, nextVersion: version } = registry
  for (let attempt = 1; ; attempt++) {
    const decision = decide(
      candidate.value,
      lookup.champion,
      config.rule,
      config.force,
      candidate.guardrails
    )
    for (const warning of decision.warnings) core.warning(warning)
    core.info(decision.why)
    if (!decision.register || config.dryRun) return buildOutcome(context, decision, lookup)
    const registration = registrationFor(context, decision, lookup.champion)
    const result = await registerVersion(
      ws,
      config.modelName,
      version,
      registration,
      config.metric,
      model
    )
    if (result.kind === 'registered') return buildOutcome(context, decision, lookup, result.version)
    // Taken: by an earlier attempt of ours whose answer was lost, or by a rival run.
    const holder = await getVersion(ws, config.modelName, version, config.metric)
    if (holder && holdsRunModel(holder, model)) {
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
  // Every guardrail metric too, so that the next run's relative guardrails compare against it.
  const guardrails = Object.fromEntries(
    [...(candidate.guardrails ?? [])].map(([k, v]) => [k, v.text])
  )
  const recorded: Record<string, string> = { ...guardrails, [config.metric]: candidate.text }
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
    ...(config.flavors ? { flavors: config.flavors } : {}),
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
