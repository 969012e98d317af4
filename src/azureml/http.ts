import {
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
import { AzureCallError, scrub } from '../errors.js'
import { gateRetryPolicy } from '../retry.js'

/** What every client of ours sends, so that workspace logs can tell our calls apart. */
export const USER_AGENT = 'azureml-model-gate/1'

/** A request that hangs is a failure to retry, not a job that never ends. */
const REQUEST_TIMEOUT_MS = 120_000

/** Swaps the SDK's default retry policy for ours (see retry.ts) in any Azure SDK pipeline. */
export function useGateRetries(pipeline: Pipeline): void {
  pipeline.removePolicy({ name: 'defaultRetryPolicy' })
  pipeline.addPolicy(gateRetryPolicy(), { phase: 'Retry' })
}

export const timeoutPolicy: PipelinePolicy = {
  name: 'gateRequestTimeout',
  sendRequest(request, next) {
    if (!request.timeout) request.timeout = REQUEST_TIMEOUT_MS
    return next(request)
  }
}

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
    useGateRetries(this.pipeline)
    this.pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: scope }))
    this.pipeline.addPolicy(timeoutPolicy)
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
    const text = response.bodyAsText ?? ''
    const body = text ? (JSON.parse(text) as T) : (undefined as T)
    if (response.status >= 400 && response.status !== 404 && response.status !== 409) {
      throw new AzureCallError(
        operation,
        response.status,
        failureMessage(operation, response.status, body)
      )
    }
    return { status: response.status, body }
  }
}

/** Converts an SDK error into one line naming the operation and the last status. */
export function callError(operation: string, error: unknown): AzureCallError {
  if (error instanceof AzureCallError) return error
  const status = isRestError(error) ? error.statusCode : undefined
  const details = isRestError(error) ? error.details : undefined
  const message = failureMessage(
    operation,
    status,
    details ?? { message: (error as Error)?.message }
  )
  return new AzureCallError(operation, status, message)
}

function failureMessage(operation: string, status: number | undefined, body: unknown): string {
  const error = (body as { error?: { code?: string; message?: string } })?.error
  const detail = error?.message ?? (body as { message?: string })?.message ?? 'no details'
  const code = error?.code ? `${error.code}: ` : ''
  const advice =
    status === 401
      ? ' The credential was rejected: check azure-credentials, or client-id/tenant-id and the federated credential subject.'
      : status === 403
        ? " The identity lacks a role: assign it 'AzureML Data Scientist' on the workspace (az role assignment create --role 'AzureML Data Scientist' --assignee <client-id> --scope <workspace id>)."
        : ''
  const where = status === undefined ? 'without a response' : `with HTTP ${status}`
  return scrub(`${operation} failed ${where}: ${code}${detail}.${advice}`.replace(/\.\./g, '.'))
}
