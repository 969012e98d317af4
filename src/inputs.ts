import * as core from '@actions/core'
import fs from 'node:fs'
import path from 'node:path'
import { Big } from 'big.js'
import { CLOUDS, isMicrosoftAuthority, type Cloud } from './clouds.js'
import { InputError } from './errors.js'
import { findMlmodel, readMlflowFlavors, type Flavors, type MlmodelFile } from './mlmodel.js'
import { listModelFiles, type ModelFiles } from './modelfiles.js'
import { parseDecimal, type Rule } from './decision.js'
import { GuardrailSyntaxError, parseGuardrails, type Guardrail } from './guardrails.js'
import { AGGREGATIONS, type Aggregation } from './scores/mlflow.js'
import { METRIC_SOURCES, type MetricSource } from './scores/source.js'
import { rejectProvenanceKeys } from './provenance.js'
import { Inputs } from './names.js'

export type CompareTo =
  { kind: 'latest' } | { kind: 'best' } | { kind: 'tag'; key: string; value: string }

export type AuthConfig =
  | { kind: 'secret'; tenantId: string; clientId: string; clientSecret: string }
  | { kind: 'oidc'; tenantId: string; clientId: string; audience: string }
  | { kind: 'default' }

export const ASSET_TYPES = ['custom_model', 'mlflow_model', 'triton_model'] as const
export type AssetType = (typeof ASSET_TYPES)[number]

export interface Config {
  subscriptionId: string
  resourceGroup: string
  workspaceName: string
  runId: string
  modelName: string
  model: ModelFiles
  artifactPath: string
  trainingStepName?: string
  metric: string
  /** Where the score is read: auto tries tag, MLflow metric, property in turn */
  metricSource: MetricSource | 'auto'
  /** How an MLflow metric logged as a series becomes one score */
  metricAggregation: Aggregation
  modelTypeTag: string
  rule: Rule
  compareTo: CompareTo
  /** Register as first although versions exist, none of which is a champion */
  allowFirst: boolean
  assetType: AssetType
  /** From the MLmodel file, for asset-type mlflow_model */
  mlmodel?: MlmodelFile
  /** Read from the MLmodel file by withMlflowFlavors, after the other inputs */
  flavors?: Flavors
  framework: string
  frameworkVersion?: string
  description?: string
  tags: Record<string, string>
  properties: Record<string, string>
  force: boolean
  dryRun: boolean
  failIfNotBetter: boolean
  waitMinutes: number
  decisionFile?: string
  /** Comment the decision on this pull request (else the event's, if any) */
  pullRequest?: number
  githubToken?: string
  auth: AuthConfig
  cloud: Cloud & { disableInstanceDiscovery: boolean }
}

const MODEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/
const RUN_ID = /^[a-zA-Z0-9][a-zA-Z0-9\-_.:]{0,254}$/

/**
 * Reads and validates every input before anything touches Azure, so that a typo fails
 * the step with one line naming the input, and nothing is written.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const { auth, subscriptionId } = readSignIn(env)

  const modelName = required(Inputs.ModelName)
  if (!MODEL_NAME.test(modelName)) {
    throw new InputError(
      Inputs.ModelName,
      `'${modelName}' is not a valid model name; use letters, digits, '-' and '_', starting with a letter or digit (at most 255)`
    )
  }
  const runId = required(Inputs.RunId)
  if (!RUN_ID.test(runId)) {
    throw new InputError(
      Inputs.RunId,
      `'${runId}' is not a valid job name; pass the pipeline job's name`
    )
  }

  const modelPath = optional(Inputs.ModelPath) ?? 'model.pkl'
  const model = listModelFiles(Inputs.ModelPath, modelPath)
  const artifactPath = parseArtifactPath(optional(Inputs.ArtifactPath) ?? path.basename(model.root))
  const assetType = oneOf(Inputs.AssetType, ASSET_TYPES, 'custom_model')
  const mlmodel =
    assetType === 'mlflow_model' ? findMlmodel(Inputs.ModelPath, model, modelPath) : undefined

  const higherIsBetter = bool(Inputs.HigherIsBetter, true)
  const rule: Rule = {
    higherIsBetter,
    minImprovement: nonNegativeDecimal(Inputs.MinImprovement),
    minRelativeImprovement: nonNegativeDecimal(Inputs.MinRelativeImprovement),
    threshold: decimal(Inputs.Threshold),
    guardrails: guardrails(optional(Inputs.Guardrails))
  }

  const waitMinutes = nonNegativeDecimal(Inputs.WaitMinutes)
  if (waitMinutes.gt(MAX_WAIT_MINUTES)) {
    throw new InputError(
      Inputs.WaitMinutes,
      `must be at most ${MAX_WAIT_MINUTES} (a job runs at most 5 days), got '${waitMinutes.toString()}'`
    )
  }
  const config: Config = {
    subscriptionId,
    resourceGroup: required(Inputs.ResourceGroup),
    workspaceName: required(Inputs.WorkspaceName),
    runId,
    modelName,
    model,
    artifactPath,
    trainingStepName: parseStepName(optional(Inputs.TrainingStepName)),
    metric: optional(Inputs.Metric) ?? 'accuracy',
    metricSource: oneOf(Inputs.MetricSource, ['auto', ...METRIC_SOURCES], 'auto'),
    metricAggregation: oneOf(Inputs.MetricAggregation, AGGREGATIONS, 'last'),
    modelTypeTag: optional(Inputs.ModelTypeTag) ?? 'best_model',
    rule,
    compareTo: parseCompareTo(optional(Inputs.CompareTo) ?? 'latest'),
    allowFirst: bool(Inputs.AllowFirst, false),
    assetType,
    mlmodel,
    framework: optional(Inputs.Framework) ?? 'ScikitLearn',
    frameworkVersion: optional(Inputs.FrameworkVersion),
    description: optional(Inputs.Description),
    tags: parseKeyValues(Inputs.Tags, optional(Inputs.Tags)),
    properties: ownProperties(parseKeyValues(Inputs.Properties, optional(Inputs.Properties))),
    force: bool(Inputs.Force, false),
    dryRun: bool(Inputs.DryRun, false),
    failIfNotBetter: bool(Inputs.FailIfNotBetter, false),
    waitMinutes: waitMinutes ? Number(waitMinutes.toString()) : 0,
    decisionFile: parseDecisionFile(optional(Inputs.DecisionFile)),
    pullRequest: parsePullRequest(optional(Inputs.PullRequest)),
    githubToken: secret(optional(Inputs.GithubToken)),
    auth,
    cloud: resolveCloud(env)
  }
  return Object.freeze(config)
}

/**
 * The MLmodel's flavors (asset-type mlflow_model), parsed before any call like every input,
 * but apart from readConfig so that the YAML parser loads only for MLflow models.
 */
export async function withMlflowFlavors(config: Readonly<Config>): Promise<Readonly<Config>> {
  if (!config.mlmodel) return config
  const flavors = await readMlflowFlavors(Inputs.ModelPath, config.mlmodel)
  return Object.freeze({ ...config, flavors })
}

/** How to sign in, and to which subscription: the gate's and verify's first inputs alike. */
export function readSignIn(env: NodeJS.ProcessEnv): { auth: AuthConfig; subscriptionId: string } {
  const credentials = parseCredentials(optional(Inputs.AzureCredentials))
  const auth = resolveAuth(credentials)
  const subscriptionId =
    optional(Inputs.SubscriptionId) ?? credentials?.subscriptionId ?? env.AZURE_SUBSCRIPTION_ID
  if (!subscriptionId) {
    throw new InputError(
      Inputs.SubscriptionId,
      'required; set it, or include subscriptionId in azure-credentials, or set AZURE_SUBSCRIPTION_ID'
    )
  }
  return { auth, subscriptionId }
}

export function optional(name: string): string | undefined {
  const value = core.getInput(name).trim()
  return value === '' ? undefined : value
}

export function required(name: string): string {
  const value = optional(name)
  if (value === undefined) throw new InputError(name, `required; add '${name}:' under 'with:'`)
  return value
}

function bool(name: string, fallback: boolean): boolean {
  const value = optional(name)
  if (value === undefined) return fallback
  if (value === 'true' || value === 'True' || value === 'TRUE') return true
  if (value === 'false' || value === 'False' || value === 'FALSE') return false
  throw new InputError(name, `'${value}' is not a boolean; use true or false`)
}

function decimal(name: string): Big | undefined {
  const value = optional(name)
  if (value === undefined) return undefined
  const parsed = parseDecimal(value)
  if (!parsed) throw new InputError(name, `'${value}' is not a decimal number (e.g. 0.01)`)
  return parsed
}

/** GitHub stops any job after 5 days (6 hours on its hosted runners): a longer wait never ends. */
const MAX_WAIT_MINUTES = 7200

function nonNegativeDecimal(name: string): Big {
  const value = decimal(name) ?? new Big(0)
  if (value.lt(0)) throw new InputError(name, `must be 0 or more, got '${value.toString()}'`)
  return value
}

function guardrails(value: string | undefined): Guardrail[] {
  if (value === undefined) return []
  try {
    return parseGuardrails(value)
  } catch (error) {
    if (error instanceof GuardrailSyntaxError)
      throw new InputError(Inputs.Guardrails, error.message)
    throw error
  }
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = optional(name)
  if (value === undefined) return fallback
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new InputError(name, `'${value}' is not one of ${allowed.join(', ')}`)
}

function parseCompareTo(value: string): CompareTo {
  if (value === 'latest' || value === 'best') return { kind: value }
  const match = /^tag:([^=]+)=(.+)$/.exec(value)
  if (match) return { kind: 'tag', key: match[1].trim(), value: match[2].trim() }
  throw new InputError(
    Inputs.CompareTo,
    `'${value}' is not latest, best or tag:KEY=VALUE (e.g. tag:stage=production)`
  )
}

/** A display name, or a path through sub-pipelines: `subgraph/train_step`. */
function parseStepName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const parts = value.split('/').map(part => part.trim())
  if (parts.some(part => part === '')) {
    throw new InputError(
      Inputs.TrainingStepName,
      `'${value}' has an empty part; name a step (train_step) or a path through sub-pipelines (subgraph/train_step)`
    )
  }
  return parts.join('/')
}

function parseArtifactPath(value: string): string {
  const normalised = value.replace(/\\/g, '/').replace(/\/+$/, '')
  if (
    normalised === '' ||
    normalised.startsWith('/') ||
    /^[a-zA-Z]:/.test(normalised) ||
    normalised.split('/').some(part => part === '..' || part === '.' || part === '')
  ) {
    throw new InputError(
      Inputs.ArtifactPath,
      `'${value}' must be a relative path inside the run (no leading '/', no '..'), e.g. model.pkl or outputs/model`
    )
  }
  return normalised
}

/** Written at the end, after the registration: a path that cannot be a file fails now instead. */
function parseDecisionFile(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (value.endsWith('/') || value.endsWith('\\') || isDirectory(value)) {
    throw new InputError(
      Inputs.DecisionFile,
      `'${value}' is a folder; name a file, e.g. gate/decision.json`
    )
  }
  return value
}

function isDirectory(value: string): boolean {
  try {
    return fs.statSync(value).isDirectory()
  } catch {
    return false
  }
}

/** `key=value` lines, or a JSON object whose values are strings, numbers or booleans. */
export function parseKeyValues(name: string, value: string | undefined): Record<string, string> {
  const result: Record<string, string> = {}
  if (value === undefined) return result
  if (value.startsWith('{') || value.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(value)
    } catch {
      throw new InputError(name, 'is not valid JSON; use a JSON object or key=value lines')
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InputError(name, 'must be a JSON object or key=value lines')
    }
    for (const [key, raw] of Object.entries(parsed)) {
      if (!['string', 'number', 'boolean'].includes(typeof raw)) {
        throw new InputError(name, `value of '${key}' must be a string, number or boolean`)
      }
      result[checkKey(name, key)] = String(raw)
    }
    return result
  }
  for (const line of value.split(/\r?\n/)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue
    const at = line.indexOf('=')
    if (at < 0) throw new InputError(name, `line '${line.trim()}' is not key=value`)
    result[checkKey(name, line.slice(0, at).trim())] = line.slice(at + 1).trim()
  }
  return result
}

/** The gate records provenance properties itself: the input may not set them. */
function ownProperties(properties: Record<string, string>): Record<string, string> {
  rejectProvenanceKeys(Inputs.Properties, properties)
  return properties
}

function parsePullRequest(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^[1-9]\d{0,9}$/.test(value)) {
    throw new InputError(
      Inputs.PullRequest,
      `'${value}' is not a pull request number; use e.g. \${{ github.event.pull_request.number }}`
    )
  }
  return Number(value)
}

function secret(value: string | undefined): string | undefined {
  if (value !== undefined) core.setSecret(value)
  return value
}

function checkKey(name: string, key: string): string {
  if (key === '') throw new InputError(name, 'has an empty key; use key=value')
  return key
}

export interface Credentials {
  clientId: string
  clientSecret: string
  tenantId: string
  subscriptionId?: string
}

export function parseCredentials(value: string | undefined): Credentials | undefined {
  if (value === undefined) return undefined
  // Mask before anything can echo it, even when it turns out to be malformed.
  core.setSecret(value)
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new InputError(
      Inputs.AzureCredentials,
      'is not valid JSON; paste the output of `az ad sp create-for-rbac --json-auth` ({"clientId", "clientSecret", "tenantId", "subscriptionId"})'
    )
  }
  if (typeof parsed?.clientSecret === 'string') core.setSecret(parsed.clientSecret)
  const missing = ['clientId', 'clientSecret', 'tenantId'].filter(
    key => typeof parsed?.[key] !== 'string' || (parsed[key] as string).trim() === ''
  )
  if (missing.length > 0) {
    throw new InputError(
      Inputs.AzureCredentials,
      `is missing ${missing.join(', ')}; it needs clientId, clientSecret, tenantId (and subscriptionId)`
    )
  }
  return {
    clientId: parsed.clientId as string,
    clientSecret: parsed.clientSecret as string,
    tenantId: parsed.tenantId as string,
    subscriptionId: typeof parsed.subscriptionId === 'string' ? parsed.subscriptionId : undefined
  }
}

export function resolveAuth(credentials: Credentials | undefined): AuthConfig {
  if (credentials) return { kind: 'secret', ...credentials }
  const clientId = optional(Inputs.ClientId)
  const tenantId = optional(Inputs.TenantId)
  if (clientId && tenantId) {
    return {
      kind: 'oidc',
      clientId,
      tenantId,
      audience: optional(Inputs.Audience) ?? 'api://AzureADTokenExchange'
    }
  }
  if (clientId || tenantId) {
    const missing = clientId ? Inputs.TenantId : Inputs.ClientId
    throw new InputError(
      missing,
      `required with '${clientId ? Inputs.ClientId : Inputs.TenantId}' for OIDC sign-in; set both, or neither to use the default credential chain`
    )
  }
  return { kind: 'default' }
}

export function resolveCloud(env: NodeJS.ProcessEnv): Config['cloud'] {
  const name = optional(Inputs.Cloud) ?? 'AzureCloud'
  const cloud = Object.values(CLOUDS).find(c => c.name.toLowerCase() === name.toLowerCase())
  if (!cloud)
    throw new InputError(Inputs.Cloud, `'${name}' is not one of ${Object.keys(CLOUDS).join(', ')}`)
  const armEndpoint = url(Inputs.ArmEndpoint, optional(Inputs.ArmEndpoint) ?? cloud.armEndpoint)
  const authorityHost = url(
    Inputs.AuthorityHost,
    optional(Inputs.AuthorityHost) ?? env.AZURE_AUTHORITY_HOST ?? cloud.authorityHost
  )
  return {
    ...cloud,
    armEndpoint,
    authorityHost,
    disableInstanceDiscovery: !isMicrosoftAuthority(authorityHost)
  }
}

function url(name: string, value: string): string {
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new InputError(name, `'${value}' is not a URL; use https://host`)
  }
  if (parsed.protocol !== 'https:') throw new InputError(name, `'${value}' must use https`)
  return value.replace(/\/+$/, '')
}
