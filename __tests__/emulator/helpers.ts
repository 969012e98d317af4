// Shared test helpers: start an emulator trusted in-process, real SDK clients pointed at it,
// and a tiny fetch wrapper for the data plane.
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning'
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity'
import type { TokenCredential } from '@azure/identity'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.js'

// Quick retries keep fault tests fast; the policies are the SDK's own.
const retryOptions = { retryDelayInMs: 20, maxRetryDelayInMs: 100, maxRetries: 3 }

export function start(opts: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ trustInProcess: true, ...opts })
}

export function clientByRole(emu: Emulator, role: string, secret = true) {
  const c = emu.clients.find(
    x => (x.role ?? 'AzureML Data Scientist') === role && (!secret || x.clientSecret)
  )
  if (!c) throw new Error(`seed has no ${role} client`)
  return c
}

export function secretCredential(
  emu: Emulator,
  clientId?: string,
  secret?: string
): ClientSecretCredential {
  const c = clientId
    ? emu.clients.find(x => x.clientId === clientId)
    : clientByRole(emu, 'AzureML Data Scientist')
  return new ClientSecretCredential(
    emu.tenantId,
    clientId ?? c!.clientId,
    secret ?? c!.clientSecret ?? '',
    {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
      retryOptions
    }
  )
}

/** What the action does under GitHub OIDC: ask the runtime for an ID token per assertion. */
export async function githubIdToken(
  emu: Emulator,
  audience = 'api://AzureADTokenExchange'
): Promise<string> {
  const res = await fetch(`${emu.oidc.requestUrl}&audience=${encodeURIComponent(audience)}`, {
    headers: { authorization: `Bearer ${emu.oidc.requestToken}` }
  })
  if (res.status !== 200) throw new Error(`OIDC ${res.status}`)
  return ((await res.json()) as { value: string }).value
}

export function federatedCredential(emu: Emulator, audience?: string): ClientAssertionCredential {
  const c = emu.clients.find(x => x.federated)!
  return new ClientAssertionCredential(
    emu.tenantId,
    c.clientId,
    () => githubIdToken(emu, audience),
    {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
      retryOptions
    }
  )
}

export function armClient(
  emu: Emulator,
  credential: TokenCredential
): AzureMachineLearningWorkspaces {
  return new AzureMachineLearningWorkspaces(credential, emu.subscriptionId, {
    endpoint: emu.url,
    credentialScopes: [`${emu.url}/.default`],
    retryOptions
  })
}

export async function bearer(
  emu: Emulator,
  credential: TokenCredential = secretCredential(emu)
): Promise<string> {
  const token = await credential.getToken(`${emu.url}/.default`)
  return token!.token
}

export interface Reply {
  status: number
  headers: Headers
  json: any // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string
}

export async function call(
  url: string,
  opts: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body)
  })
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, json, text }
}

/** Run-history URL for the workspace: `{api}/history/v1.0{W}{rest}`. */
export const historyUrl = (emu: Emulator, rest: string): string =>
  `${emu.apiUrl}/history/v1.0${emu.workspaceId}${rest}`
export const armUrl = (emu: Emulator, rest: string): string =>
  `${emu.url}${emu.workspaceId}${rest}${rest.includes('?') ? '&' : '?'}api-version=2022-10-01`
