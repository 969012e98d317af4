import * as core from '@actions/core'
import type { AccessToken, TokenCredential } from '@azure/core-auth'

/**
 * Errors a person can act on. A UserError is printed as its one-line message (no stack):
 * it names what was wrong and how to fix it. Anything else is a bug or an outage and keeps
 * its stack for ACTIONS_STEP_DEBUG.
 */
export class UserError extends Error {
  override name = 'UserError'
}

/** A bad action input: the message starts with the input's name. */
export class InputError extends UserError {
  override name = 'InputError'
  constructor(
    readonly input: string,
    message: string
  ) {
    super(`Input '${input}': ${message}`)
  }
}

/**
 * How a failed call was authorised: with the signed-in identity's token, with a SAS URL (which
 * carries its own grant), or the sign-in itself failed.
 */
export type CallGrant = 'token' | 'sas' | 'sign-in'

/** A call to Azure failed after the SDK's retries. */
export class AzureCallError extends UserError {
  override name = 'AzureCallError'
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    message: string,
    /** What the service said (code and message), without our advice */
    readonly detail?: string,
    readonly grant: CallGrant = 'token'
  ) {
    super(message)
  }
}

const SECRET_PATTERNS: [RegExp, string][] = [
  // SAS signatures and other credentials carried in query strings
  [/([?&](?:sig|se|skoid|sktid|skt|ske|sks|skv)=)[^&\s"'<>]+/gi, '$1***'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1***'],
  // any JWT (access tokens, GitHub ID tokens, client assertions)
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, '***'],
  [/((?:client_secret|client_assertion|access_token)["']?\s*[:=]\s*["']?)[^&\s"',}]+/gi, '$1***']
]

/** Removes anything that looks like a credential from text meant for logs. */
/** A value as a message shows it: a tag can hold a megabyte. */
export function shorten(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

export function scrub(text: string): string {
  return SECRET_PATTERNS.reduce(
    (out, [pattern, replacement]) => out.replace(pattern, replacement),
    text
  )
}

export function messageOf(error: unknown): string {
  return scrub(error instanceof Error ? error.message : String(error))
}

/**
 * Registers every access token with the runner's log masking as it is issued, so that nothing
 * (an SDK log line, a message we did not foresee) can print one.
 */
export function maskTokens(credential: TokenCredential): TokenCredential {
  const masked = new Set<string>()
  return {
    async getToken(scopes, options): Promise<AccessToken | null> {
      const token = await credential.getToken(scopes, options)
      if (token && !masked.has(token.token)) {
        masked.add(token.token)
        core.setSecret(token.token)
      }
      return token
    }
  }
}
