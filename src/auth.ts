import * as core from '@actions/core'
import {
  ClientAssertionCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  type TokenCredential
} from '@azure/identity'
import type { AccessToken, GetTokenOptions } from '@azure/core-auth'
import type { AuthConfig, Config } from './inputs.js'
import type { Caller } from './azureml/http.js'
import { Workspace, workspaceIdOf } from './azureml/workspace.js'
import { UserError, maskTokens } from './errors.js'
import { RETRY_LIMITS, retrying } from './retry.js'

/**
 * The credential for ARM and the Azure ML data plane (one token scope serves both).
 * Precedence: azure-credentials secret, then GitHub OIDC federation, then the default chain
 * (environment, workload identity, managed identity, the Azure CLI session of azure/login).
 */
export function createCredential(auth: AuthConfig, cloud: Config['cloud']): TokenCredential {
  const options = credentialOptions(cloud)
  switch (auth.kind) {
    case 'secret':
      return shareTokens(
        explainUnreachableAuthority(
          new ClientSecretCredential(auth.tenantId, auth.clientId, auth.clientSecret, options),
          cloud.authorityHost
        )
      )
    case 'oidc':
      return shareTokens(
        explainUnreachableAuthority(
          new ClientAssertionCredential(
            auth.tenantId,
            auth.clientId,
            reusedBriefly(() => githubIdToken(auth.audience)),
            options
          ),
          cloud.authorityHost
        )
      )
    case 'default':
      return shareTokens(new DefaultAzureCredential(options))
  }
}

/**
 * What every credential is built with. On Azure's own clouds MSAL carries the authority's OpenID
 * metadata, so a sign-in is the token request alone (pinned by __tests__/contract/entra.test.ts).
 */
export function credentialOptions(cloud: Config['cloud']) {
  return {
    authorityHost: cloud.authorityHost,
    disableInstanceDiscovery: cloud.disableInstanceDiscovery,
    retryOptions: {
      maxRetries: RETRY_LIMITS.retries,
      retryDelayInMs: RETRY_LIMITS.baseDelayMs,
      maxRetryDelayInMs: RETRY_LIMITS.maxDelayMs
    }
  }
}

/**
 * MSAL asks for the assertion twice for one token request, one call after the other (for the
 * request, then for its client configuration): without this each would be its own round trip to
 * GitHub. A later sign-in (a token refresh) gets a fresh one: GitHub's expire within minutes.
 */
export function reusedBriefly(fetch: () => Promise<string>, forMs = 60_000): () => Promise<string> {
  let last: { value: Promise<string>; at: number } | undefined
  return () => {
    if (last && Date.now() - last.at < forMs) return last.value
    const value = fetch()
    const entry = { value, at: Date.now() }
    last = entry
    // A failure is never reused: the next call asks again.
    value.catch(() => {
      if (last === entry) last = undefined
    })
    return value
  }
}

async function githubIdToken(audience: string): Promise<string> {
  if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    throw new UserError(
      "Cannot get a GitHub OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL is not set. Add 'permissions: id-token: write' to the job (or use azure-credentials)."
    )
  }
  return retrying(async () => {
    try {
      return await core.getIDToken(audience)
    } catch (error) {
      // @actions/core reports the status only inside its message.
      const status = /Error Code : (\d+)/.exec((error as Error).message)?.[1]
      throw Object.assign(
        new Error(
          `Getting the GitHub OIDC token failed: ${(error as Error).message.replace(/\s+/g, ' ')}`
        ),
        { statusCode: status ? Number(status) : undefined }
      )
    }
  })
}

/**
 * One token request per scope, shared by every client: the ARM client and the data-plane
 * pipeline each ask for a token when their first calls go out together, and without this
 * each would cost its own round trip to Entra.
 */
export function shareTokens(inner: TokenCredential): TokenCredential {
  const cache = new Map<string, Promise<AccessToken | null>>()
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions) {
      const key = ([] as string[]).concat(scopes).join(' ')
      const pending = cache.get(key)
      if (pending) {
        const token = await pending.catch(() => null)
        if (token && token.expiresOnTimestamp - Date.now() > REFRESH_MARGIN_MS) return token
        // Another caller may already have started the refresh.
        if (cache.get(key) !== pending) return this.getToken(scopes, options)
      }
      // The shared request must not be cancelled by whichever caller happened to start it.
      const request = inner.getToken(scopes, { ...options, abortSignal: undefined })
      cache.set(key, request)
      return request
    }
  }
}

/**
 * MSAL reports an authority it cannot reach as `endpoints_resolution_error` or a socket error,
 * naming neither the host nor what sets it.
 */
const UNREACHABLE =
  /endpoints_resolution_error|network_error|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|socket hang up/i

/**
 * Turns a sign-in that never reached Entra (after the credential's own retries) into one line
 * naming the authority host and the inputs that choose it. Entra's answers pass unchanged.
 */
export function explainUnreachableAuthority(
  inner: TokenCredential,
  authorityHost: string
): TokenCredential {
  return {
    async getToken(scopes, options) {
      try {
        return await inner.getToken(scopes, options)
      } catch (error) {
        const { statusCode, message } = error as { statusCode?: number; message?: string }
        if (statusCode !== undefined || !UNREACHABLE.test(message ?? '')) throw error
        const host = new URL(authorityHost).host
        const detail = (message ?? '')
          .split(/\s*\n\s*/)[0]
          .replace(/: See https:\S+ for details$/, '')
        throw new UserError(
          `Sign-in failed: the Microsoft Entra authority ${host} could not be reached after retries (${detail}); check the cloud and authority-host inputs (and AZURE_AUTHORITY_HOST), and that the runner can reach ${host}.`
        )
      }
    }
  }
}

/** Refresh this long before expiry, as the SDK's own token refresher does. */
const REFRESH_MARGIN_MS = 5 * 60_000

/** What names a workspace and how to sign in to it: the gate's config and verify's alike. */
export type WorkspaceTarget = Pick<
  Config,
  'subscriptionId' | 'resourceGroup' | 'workspaceName' | 'auth' | 'cloud'
>

/** Signs in and connects to the workspace, with every token masked in the log as it is issued. */
export function openWorkspace(target: WorkspaceTarget): Promise<Workspace> {
  return Workspace.connect(
    {
      subscriptionId: target.subscriptionId,
      resourceGroup: target.resourceGroup,
      workspaceName: target.workspaceName,
      armEndpoint: target.cloud.armEndpoint
    },
    maskTokens(createCredential(target.auth, target.cloud))
  )
}

/**
 * Who signed in, and where, and the least role the action needs there: names them in a 401 or
 * 403. The gate writes (artifacts, versions); verify only reads.
 */
export function callerOf(target: WorkspaceTarget, role: Caller['role']): Caller {
  return {
    clientId: target.auth.kind === 'default' ? process.env.AZURE_CLIENT_ID : target.auth.clientId,
    workspaceName: target.workspaceName,
    workspaceId: workspaceIdOf(target),
    role
  }
}
