import { InputError } from '../errors.js'
import { Inputs, VerifyInputs } from '../names.js'
import { optional, readSignIn, required, resolveCloud, type Config } from '../inputs.js'
import { readGitHubRun } from '../provenance.js'

/** The reasons for which the gate registers a version. */
export const GATE_REASONS = ['first', 'better', 'forced'] as const

export interface VerifyConfig extends Pick<
  Config,
  'subscriptionId' | 'resourceGroup' | 'workspaceName' | 'auth' | 'cloud'
> {
  modelName: string
  version: string
  allowedReasons: string[]
  repository: string
  /** Any ref when undefined */
  ref?: string
}

const MODEL_URI = /^azureml:([a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}):([^:@/\s]+)$/
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/

/** The verify action's inputs, checked before anything touches Azure. */
export function readVerifyConfig(env: NodeJS.ProcessEnv = process.env): Readonly<VerifyConfig> {
  const { auth, subscriptionId } = readSignIn(env)
  return Object.freeze({
    subscriptionId,
    resourceGroup: required(Inputs.ResourceGroup),
    workspaceName: required(Inputs.WorkspaceName),
    ...modelVersion(),
    allowedReasons: allowedReasons(optional(VerifyInputs.AllowedReasons) ?? 'first,better'),
    repository: repository(optional(VerifyInputs.Repository) ?? readGitHubRun(env).repository),
    ref: optional(VerifyInputs.Ref),
    auth,
    cloud: resolveCloud(env)
  })
}

/** `model-uri`, or `model-name` with `model-version`: one way, not both. */
function modelVersion(): { modelName: string; version: string } {
  const uri = optional(VerifyInputs.ModelUri)
  const name = optional(VerifyInputs.ModelName)
  const version = optional(VerifyInputs.ModelVersion)
  if (uri !== undefined) {
    if (name !== undefined || version !== undefined) {
      throw new InputError(
        VerifyInputs.ModelUri,
        `set either model-uri or model-name with model-version, not both`
      )
    }
    const match = MODEL_URI.exec(uri)
    if (!match) {
      throw new InputError(
        VerifyInputs.ModelUri,
        `'${uri}' is not azureml:<name>:<version> (e.g. the gate's model-uri output, azureml:iris-classifier:3)`
      )
    }
    return { modelName: match[1], version: match[2] }
  }
  if (name === undefined) {
    throw new InputError(
      VerifyInputs.ModelUri,
      `required; pass the gate's model-uri output, or model-name with model-version`
    )
  }
  if (version === undefined) {
    throw new InputError(VerifyInputs.ModelVersion, `required with model-name; e.g. '3'`)
  }
  if (!MODEL_URI.test(`azureml:${name}:${version}`)) {
    throw new InputError(
      VerifyInputs.ModelName,
      `'${name}' version '${version}' is not a valid model name and version`
    )
  }
  return { modelName: name, version }
}

function allowedReasons(value: string): string[] {
  const reasons = value
    .split(/[\s,]+/)
    .map(reason => reason.trim())
    .filter(Boolean)
  const unknown = reasons.find(reason => !(GATE_REASONS as readonly string[]).includes(reason))
  if (unknown !== undefined || reasons.length === 0) {
    throw new InputError(
      VerifyInputs.AllowedReasons,
      `'${unknown ?? value}' is not a reason the gate registers for; list some of ${GATE_REASONS.join(', ')}`
    )
  }
  return [...new Set(reasons)]
}

function repository(value: string): string {
  if (value === '') {
    throw new InputError(
      VerifyInputs.Repository,
      'required outside GitHub Actions (GITHUB_REPOSITORY is not set); use OWNER/REPO'
    )
  }
  if (!REPOSITORY.test(value)) {
    throw new InputError(VerifyInputs.Repository, `'${value}' is not OWNER/REPO`)
  }
  return value
}
