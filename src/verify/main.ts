import * as core from '@actions/core'
import { callerOf, openWorkspace } from '../auth.js'
import { explainAccess } from '../azureml/http.js'
import { getVersion } from '../azureml/models.js'
import { UserError, messageOf } from '../errors.js'
import { VerifyOutputs } from '../names.js'
import { readVerifyConfig, type VerifyConfig } from './inputs.js'

/** What a deploy job requires of a version before it deploys it. */
export interface Requirements {
  allowedReasons: readonly string[]
  /** OWNER/REPO; compared without regard to case, as GitHub does */
  repository: string
  ref?: string
}

/** A registered version as verify sees it: its name, number and properties. */
export interface RegisteredVersion {
  modelName: string
  version: string
  properties: Readonly<Record<string, string>>
}

export interface Judgement {
  verified: boolean
  /** One sentence per requirement the version does not meet */
  unmet: string[]
  reason: string
  runUrl: string
  sha: string
}

/**
 * Whether the gate let this version in, for an allowed reason, from the required repository
 * (and ref). Pure: the properties are the whole record.
 */
export function judge(version: RegisteredVersion, requirements: Requirements): Judgement {
  const p = version.properties
  const subject = `Version ${version.version} of ${version.modelName}`
  const reason = p['gate.reason'] ?? ''
  const found = { reason, runUrl: p['github.run_url'] ?? '', sha: p['github.sha'] ?? '' }
  if (!reason) {
    const unmet = [`${subject} was registered by hand: it has no gate.reason property`]
    return { verified: false, unmet, ...found }
  }
  const unmet: string[] = []
  if (!requirements.allowedReasons.includes(reason)) {
    unmet.push(
      `${subject} was registered with reason '${reason}', which allowed-reasons (${requirements.allowedReasons.join(', ')}) does not list`
    )
  }
  const repository = p['github.repository'] ?? ''
  if (repository.toLowerCase() !== requirements.repository.toLowerCase()) {
    unmet.push(
      `${subject} was registered from ${repository ? `repository ${repository}` : 'no repository (github.repository is empty)'}, not ${requirements.repository}`
    )
  }
  const ref = p['github.ref'] ?? ''
  if (requirements.ref !== undefined && ref !== requirements.ref) {
    unmet.push(
      `${subject} was registered from ${ref ? `ref ${ref}` : 'no ref (github.ref is empty)'}, not ${requirements.ref}`
    )
  }
  return { verified: unmet.length === 0, unmet, ...found }
}

/** Reads the version, judges it, sets the outputs; fails the step when it is not verified. */
export async function run(): Promise<void> {
  let config: Readonly<VerifyConfig> | undefined
  core.setOutput(VerifyOutputs.Verified, 'false')
  try {
    config = readVerifyConfig()
    const modelUri = `azureml:${config.modelName}:${config.version}`
    core.setOutput(VerifyOutputs.ModelUri, modelUri)
    const properties = await readProperties(config)
    const judgement = judge({ ...config, properties }, config)
    core.setOutput(VerifyOutputs.Verified, String(judgement.verified))
    core.setOutput(VerifyOutputs.Reason, judgement.reason)
    core.setOutput(VerifyOutputs.GithubRunUrl, judgement.runUrl)
    core.setOutput(VerifyOutputs.Sha, judgement.sha)
    if (!judgement.verified) return core.setFailed(judgement.unmet.join('; '))
    core.notice(
      `${modelUri} was registered by the gate (${judgement.reason}) from ${config.repository} at ${judgement.sha || 'an unknown commit'}: ${judgement.runUrl || 'no run URL'}`,
      { title: 'Model verified' }
    )
  } catch (error) {
    // Verify only reads the version: Reader on the workspace is enough.
    core.setFailed(messageOf(config ? explainAccess(error, callerOf(config, 'Reader')) : error))
  }
}

async function readProperties(config: VerifyConfig): Promise<Record<string, string>> {
  const ws = await openWorkspace(config)
  const found = await getVersion(ws, config.modelName, config.version, '')
  if (!found) {
    throw new UserError(
      `Version ${config.version} of ${config.modelName} was not found in workspace '${config.workspaceName}'; check model-uri (or model-name and model-version).`
    )
  }
  return found.properties ?? {}
}
