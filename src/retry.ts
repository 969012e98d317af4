import {
  retryPolicy,
  type PipelinePolicy,
  type RetryModifiers,
  type RetryStrategy
} from '@azure/core-rest-pipeline'

/**
 * One retry rule for every call the action makes (ARM, run history, token, OIDC, blob):
 * 408, 429, 500, 502, 503, 504 and dropped connections are retried with exponential backoff
 * and full jitter, honouring the service's retry hints; attempts, each wait and the total wait are bounded,
 * so a call gives up within a few minutes with its last status.
 */
export const RETRY_LIMITS = {
  /** Retries after the first attempt */
  retries: 6,
  baseDelayMs: 400,
  maxDelayMs: 15_000,
  /** A Retry-After longer than this is shortened: the job has a budget too */
  maxRetryAfterMs: 60_000,
  /** Time one call may spend waiting between its attempts, all retries together */
  maxTotalWaitMs: 120_000
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504])
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET'
])

export function isRetryableStatus(status: number | undefined): boolean {
  return status !== undefined && RETRYABLE_STATUS.has(status)
}

export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return (
    (typeof code === 'string' && NETWORK_CODES.has(code)) ||
    /socket hang up|ECONNRESET|network|aborted/i.test((error as Error)?.message ?? '')
  )
}

/** Exponential backoff with full jitter: spreads the retries of concurrent runs apart. */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_LIMITS.maxDelayMs, RETRY_LIMITS.baseDelayMs * 2 ** retry)
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/** Retry-After in seconds or as an HTTP date, bounded; undefined when absent. */
export function retryAfterMs(
  value: string | undefined | null,
  now = Date.now()
): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now
  if (!Number.isFinite(ms)) return undefined
  return Math.min(Math.max(ms, 0), RETRY_LIMITS.maxRetryAfterMs)
}

interface Headers {
  get(name: string): string | undefined | null
}

/**
 * The service's hint of how long to wait, in the Azure SDK's order (@typespec/ts-http-runtime
 * throttlingRetryStrategy): `retry-after-ms`, then `x-ms-retry-after-ms` (milliseconds), then
 * `Retry-After` (seconds or an HTTP date). Bounded; undefined when none is usable.
 */
export function retryHintMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = headers?.get(name)
    const ms = value ? Number(value) : NaN
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), RETRY_LIMITS.maxRetryAfterMs)
  }
  return retryAfterMs(headers?.get('retry-after'), now)
}

/** Time each request has waited so far; a request that would exceed the budget gives up. */
const waited = new WeakMap<object, number>()

function wait(request: object | undefined, ms: number): RetryModifiers {
  const total = (request && waited.get(request)) ?? 0
  if (total + ms > RETRY_LIMITS.maxTotalWaitMs) return { skipStrategy: true }
  if (request) waited.set(request, total + ms)
  return { retryAfterInMs: ms }
}

const strategy: RetryStrategy = {
  name: 'gateRetryStrategy',
  retry({ retryCount, response, responseError }) {
    const request = response?.request ?? responseError?.request
    if (response && isRetryableStatus(response.status)) {
      return wait(request, retryHintMs(response.headers) ?? backoffMs(retryCount))
    }
    if (
      !response &&
      responseError &&
      (isNetworkError(responseError) || isRetryableStatus(responseError.statusCode))
    ) {
      return wait(request, backoffMs(retryCount))
    }
    return { skipStrategy: true }
  }
}

/** The pipeline policy that replaces the SDK's default retry policy in every client of ours. */
export function gateRetryPolicy(): PipelinePolicy {
  return retryPolicy([strategy], { maxRetries: RETRY_LIMITS.retries })
}

/**
 * The same rule around calls that do not go through a pipeline we control (the blob SDK's
 * own policy skips 408/429/502/504; the GitHub OIDC client skips 429/500). Only for
 * idempotent calls.
 */
export async function retrying<T>(
  fn: () => Promise<T>,
  sleep: (ms: number) => Promise<void> = ms => new Promise(resolve => setTimeout(resolve, ms))
): Promise<T> {
  let waitedMs = 0
  for (let retry = 0; ; retry++) {
    try {
      return await fn()
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode
      const headers = (error as { response?: { headers?: Headers } }).response?.headers
      const delay = retryHintMs(headers) ?? backoffMs(retry)
      if (
        retry >= RETRY_LIMITS.retries ||
        waitedMs + delay > RETRY_LIMITS.maxTotalWaitMs ||
        !(isRetryableStatus(status) || (status === undefined && isNetworkError(error)))
      ) {
        throw error
      }
      waitedMs += delay
      await sleep(delay)
    }
  }
}

/**
 * The waits of a poll that must end by `deadline`: each `factor` times the last, up to `max`, and
 * the last one cut to end at the deadline itself, so that the final look is there and not a
 * poll interval early. Lazy: each wait is measured from the clock when it is asked for.
 */
export function* pollWaits(
  deadline: number,
  now: () => number,
  first: number,
  factor: number,
  max = 30_000
): Generator<number> {
  for (let delay = first; ; delay = Math.min(delay * factor, max)) {
    const wait = Math.min(delay, deadline - now())
    if (wait <= 0) return
    yield wait
  }
}
