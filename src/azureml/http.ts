import {
  RestError,
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  isRestError,
  type Pipeline,
  type PipelinePolicy
} from '@azure/core-rest-pipeline'
import type { TokenCredential } from '@azure/core-auth'
import { AzureCallError, UserError, scrub, type CallGrant } from '../errors.js'
import { gateRetryPolicy } from '../retry.js'

/** What every client of ours sends, so that workspace logs can tell our calls apart. */
export const USER_AGENT = 'azureml-model-gate/1'

/** A request that hangs is a failure to retry, not a job that never ends. */
const REQUEST_TIMEOUT_MS = 120_000

/**
 * Swaps the SDK's default retry policy for ours (see retry.ts) in any Azure SDK pipeline, and
 * puts the per-attempt timeout inside the retries, so that each attempt has its own clock.
 */
export function useGateRetries(pipeline: Pipeline): void {
  pipeline.removePolicy({ name: 'defaultRetryPolicy' })
  pipeline.removePolicy({ name: timeoutPolicy.name })
  pipeline.addPolicy(gateRetryPolicy(), { phase: 'Retry' })
  pipeline.addPolicy(timeoutPolicy, { afterPhase: 'Retry' })
}

/**
 * Gives up on one attempt after `ms` and reports it as a network timeout, which the retry
 * strategy retries. Not `request.timeout`: the SDK's Node client leaves that timer running when
 * the connection drops, which kept the process alive for two minutes after the step was done,
 * and it reports a timeout as an abort, which no retry policy retries.
 */
export function attemptTimeoutPolicy(ms: number): PipelinePolicy {
  return {
    name: 'gateRequestTimeout',
    async sendRequest(request, next) {
      const caller = request.abortSignal
      const controller = new AbortController()
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        controller.abort()
      }, ms)
      const forward = () => controller.abort()
      if (caller?.aborted) controller.abort()
      caller?.addEventListener('abort', forward)
      request.abortSignal = controller.signal
      try {
        return await next(request)
      } catch (error) {
        if (!timedOut) throw error
        throw new RestError(`no response within ${Math.round(ms / 1000)} s`, {
          code: 'ETIMEDOUT',
          request
        })
      } finally {
        clearTimeout(timer)
        caller?.removeEventListener('abort', forward)
        request.abortSignal = caller
      }
    }
  }
}

export const timeoutPolicy: PipelinePolicy = attemptTimeoutPolicy(REQUEST_TIMEOUT_MS)

export interface JsonRequest {
  method: 'GET' | 'POST' | 'PUT'
  url: string
  body?: unknown
}

export interface JsonResponse<T> {
  status: number
  body: T
}

/**
 * A JSON client on the Azure SDK pipeline (bearer token, retries, user agent, timeout), for
 * the data-plane APIs that have no SDK. Returns 404 and 409 to the caller; throws others.
 */
export class JsonPipeline {
  private readonly pipeline = createPipelineFromOptions({
    userAgentOptions: { userAgentPrefix: USER_AGENT }
  })
  private readonly client = createDefaultHttpClient()

  constructor(credential: TokenCredential, scope: string) {
    this.pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: scope }))
    useGateRetries(this.pipeline)
  }

  async send<T>(operation: string, request: JsonRequest): Promise<JsonResponse<T>> {
    const headers = createHttpHeaders({ accept: 'application/json' })
    if (request.body !== undefined) headers.set('content-type', 'application/json')
    const pipelineRequest = createPipelineRequest({
      url: request.url,
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body)
    })
    let response
    try {
      response = await this.pipeline.sendRequest(this.client, pipelineRequest)
    } catch (error) {
      throw callError(operation, error)
    }
    const failed = response.status >= 400 && response.status !== 404 && response.status !== 409
    const body = parseBody<T>(operation, response.status, response.bodyAsText ?? '')
    if (failed) throw failure(operation, response.status, body)
    return { status: response.status, body }
  }
}

/** JSON, or for an error page that is not JSON (a gateway's HTML), its first line as the detail. */
function parseBody<T>(operation: string, status: number, text: string): T {
  if (!text) return undefined as T
  try {
    return JSON.parse(text) as T
  } catch {
    const firstLine = text
      .replace(/<[^>]*>/g, ' ')
      .trim()
      .split(/\s*\n\s*/)[0]
      .slice(0, 200)
    if (status >= 400) return { message: firstLine || 'a response that is not JSON' } as T
    throw failure(operation, status, { message: `the answer is not JSON: ${firstLine}` })
  }
}

/**
 * Converts an SDK error into one line naming the operation and the last status. `viaSas`: the
 * call went to a SAS URL, so a 403 is about the URL's grant, not the identity's role.
 */
export function callError(
  operation: string,
  error: unknown,
  options: { viaSas?: boolean } = {}
): AzureCallError {
  if (error instanceof AzureCallError) return error
  // Ours, from the GitHub OIDC token callback: it already says what to do.
  if (error instanceof UserError) return new AzureCallError(operation, undefined, error.message)
  if (isSignInFailure(error)) {
    // The token request failed, not the call: say so, with Entra's (or GitHub's) own words.
    const status = (error as { statusCode?: number }).statusCode
    const detail = oneLine((error as Error).message)
    const where = status === undefined ? '' : ` with HTTP ${status}`
    return new AzureCallError(
      operation,
      status,
      `Sign-in failed${where} (needed for: ${operation}): ${detail}`,
      detail,
      'sign-in'
    )
  }
  const status = isRestError(error) ? error.statusCode : undefined
  const details = isRestError(error) ? error.details : undefined
  const message = (error as Error)?.message
  return failure(operation, status, details ?? { message }, options.viaSas ? 'sas' : 'token')
}

/** @azure/identity's errors: the token request failed, or no credential was available. */
function isSignInFailure(error: unknown): boolean {
  const name = (error as Error)?.name
  return (
    name === 'AuthenticationError' ||
    name === 'AggregateAuthenticationError' ||
    name === 'CredentialUnavailableError' ||
    name === 'AuthenticationRequiredError'
  )
}

function oneLine(text: string | undefined): string {
  return scrub((text ?? 'no details').replace(/\s*\n\s*/g, ' ').trim())
}

function failure(
  operation: string,
  status: number | undefined,
  body: unknown,
  grant: CallGrant = 'token'
): AzureCallError {
  const error = (body as { error?: { code?: string; message?: string } })?.error
  const text = error?.message ?? (body as { message?: string })?.message ?? 'no details'
  // One line: storage messages carry their request id and time on lines of their own.
  const detail = oneLine(`${error?.code ? `${error.code}: ` : ''}${text}`)
  const advice = grant === 'sas' ? '' : undefined
  return new AzureCallError(
    operation,
    status,
    failureMessage(operation, status, detail, advice),
    detail,
    grant
  )
}

function failureMessage(
  operation: string,
  status: number | undefined,
  detail: string,
  advice = ACCESS_ADVICE[status ?? 0] ?? ''
): string {
  const where = status === undefined ? 'without a response' : `with HTTP ${status}`
  return scrub(`${operation} failed ${where}: ${detail}.${advice && ` ${advice}`}`).replace(
    /\.\./g,
    '.'
  )
}

const ACCESS_ADVICE: Record<number, string> = {
  401: 'The credential was rejected: check azure-credentials, or client-id/tenant-id and the federated credential subject.',
  403: "The identity lacks a role: assign it 'AzureML Data Scientist' on the workspace."
}

/** Who the action signed in as, and where, for advice on 401 and 403. */
export interface Caller {
  /** Application (client) id, when the inputs or the environment name it */
  clientId?: string
  workspaceName: string
  /** ARM id of the workspace: the scope of the role assignment */
  workspaceId: string
  /** The built-in role that grants what the action does there */
  role: 'AzureML Data Scientist' | 'Reader'
}

/**
 * Rewrites a 401 or 403 so that it names the identity, the role it lacks and the workspace,
 * with the command that grants it. Other errors are returned as they are.
 */
export function explainAccess(error: unknown, caller: Caller): unknown {
  const explained =
    error instanceof AzureCallError &&
    (error.grant === 'token'
      ? error.status === 401 || error.status === 403
      : // Entra refused the credential (an AADSTS code); other sign-in failures, such as a
        // missing GitHub OIDC permission, carry their own advice.
        error.grant === 'sign-in' && /AADSTS\d+/.test(error.message))
  if (!explained) return error
  const detail = error.detail ?? ''
  // ARM names the client in its 403 ("The client '<id>' with object id ..."): the fallback for
  // the default credential chain, whose identity the inputs do not name.
  const clientId = caller.clientId ?? /client '([^']+)'/.exec(detail)?.[1]
  const identity = clientId
    ? `client ${clientId}`
    : 'the signed-in identity (default credential chain)'
  const advice =
    error.grant === 'token' && error.status === 403
      ? `The identity ${identity} lacks the '${caller.role}' role on workspace '${caller.workspaceName}': az role assignment create --role '${caller.role}' --assignee ${clientId ?? '<client-id>'} --scope ${caller.workspaceId} (assignments take a few minutes to apply).`
      : `The credential of ${identity} was rejected: check azure-credentials, or client-id/tenant-id and the federated credential's subject and audience.`
  const message =
    error.grant === 'sign-in'
      ? `${error.message.replace(/\.?$/, '.')} ${advice}`
      : failureMessage(error.operation, error.status, detail, advice)
  return new AzureCallError(error.operation, error.status, message, detail, error.grant)
}
