// What handlers share: state, signing keys, the emulator's own URLs and counters. Built once the
// server knows its port, then handed to every request through its context.
import { createHash } from 'node:crypto'
import type { BlobStore } from './blob.js'
import type { FaultEngine } from './faults.js'
import type { GitHubApi } from './github.js'
import type { LogEntry, ServerSettings } from './server.js'
import type { State } from './state.js'

export interface Counters {
  /** GitHub OIDC ID tokens issued by /_github/oidc/token. */
  githubIdTokens: number
  /** Access tokens issued by the Entra token endpoint. */
  entraTokens: number
  /** Entra token requests that carried a client assertion (federated credential). */
  entraAssertions: number
}

export interface Services {
  state: State
  /** HMAC keys: one for Entra access tokens, one for GitHub ID tokens. */
  keys: { entra: Buffer; github: Buffer }
  /** https://127.0.0.1:PORT — ARM, Entra, GitHub OIDC, blob proxy. */
  url: string
  /** https://localhost:PORT — the data-plane host the workspace advertises. */
  apiUrl: string
  oidcRequestToken: string
  childPageSize: number
  counters: Counters
  blob: BlobStore
  /** The GitHub REST API's comments and token. */
  github: GitHubApi
  /** Runtime controls, used by the admin API. */
  faults: FaultEngine
  settings: ServerSettings
  log: LogEntry[]
}

/** ARM id of the workspace: the `W` prefix of every workspace-scoped path. */
export function workspaceArmId(svc: Services): string {
  const d = svc.state.data
  return (
    `/subscriptions/${d.subscriptionId}/resourceGroups/${d.resourceGroup}` +
    `/providers/Microsoft.MachineLearningServices/workspaces/${d.workspace.name}`
  )
}

/** Regex source for W, capturing subscription, resource group and workspace. */
export const W =
  '/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\\.MachineLearningServices/workspaces/([^/]+)'

/** A GUID-shaped id derived from text, so ids stay the same across runs. */
export function stableGuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}
