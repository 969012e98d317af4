// The pure parts of the reliability rules: per-attempt timeouts, the retry budget, the advice
// on 401/403, and ordering versions for a re-run's champion.
import {
  RestError,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type PipelineRequest
} from '@azure/core-rest-pipeline'
import { AzureCallError } from '../../src/errors.js'
import { attemptTimeoutPolicy, callError, explainAccess } from '../../src/azureml/http.js'
import { registeredBefore } from '../../src/azureml/models.js'
import { RETRY_LIMITS, gateRetryPolicy, retrying } from '../../src/retry.js'

/**
 * Runs `work` and returns the timers it armed with `ms` that are still pending afterwards.
 * Only our own timers are tracked: a global count also sees other suites' timers come and go.
 */
async function pendingTimersOf(ms: number, work: () => Promise<void>): Promise<number> {
  const armed = new Set<ReturnType<typeof setTimeout>>()
  const { setTimeout: realSet, clearTimeout: realClear } = globalThis
  globalThis.setTimeout = ((handler: () => void, delay?: number) => {
    const timer = realSet(() => {
      armed.delete(timer)
      handler()
    }, delay)
    if (delay === ms) armed.add(timer)
    return timer
  }) as typeof setTimeout
  globalThis.clearTimeout = ((timer: ReturnType<typeof setTimeout>) => {
    armed.delete(timer)
    realClear(timer)
  }) as typeof clearTimeout
  try {
    await work()
  } finally {
    globalThis.setTimeout = realSet
    globalThis.clearTimeout = realClear
  }
  for (const timer of armed) realClear(timer)
  return armed.size
}

/** An HTTP client whose answers are scripted per attempt; `hang` waits until aborted. */
function scripted(answers: ('hang' | 'reset' | number)[]): HttpClient & { attempts: number } {
  const client = {
    attempts: 0,
    async sendRequest(request: PipelineRequest) {
      const answer = answers[client.attempts++] ?? 200
      if (answer === 'hang') {
        return new Promise<never>((_, reject) =>
          request.abortSignal?.addEventListener('abort', () => reject(new Error('aborted')))
        )
      }
      if (answer === 'reset') throw new RestError('socket hang up', { code: 'ECONNRESET' })
      return { request, status: answer, headers: createHttpHeaders() }
    }
  }
  return client
}

function pipelineWith(timeoutMs: number) {
  const pipeline = createEmptyPipeline()
  pipeline.addPolicy(gateRetryPolicy(), { phase: 'Retry' })
  pipeline.addPolicy(attemptTimeoutPolicy(timeoutMs), { afterPhase: 'Retry' })
  return pipeline
}

const request = () => createPipelineRequest({ url: 'https://example.invalid/x' })

describe('per-attempt timeout', () => {
  test('an attempt that hangs is abandoned and retried, each with its own clock', async () => {
    const client = scripted(['hang', 'hang', 200])
    const response = await pipelineWith(50).sendRequest(client, request())
    expect(response.status).toBe(200)
    expect(client.attempts).toBe(3)
  })

  test('a dropped connection leaves no timer behind to keep the process alive', async () => {
    const client = scripted(['reset', 200])
    let status = 0
    const pending = await pendingTimersOf(60_000, async () => {
      status = (await pipelineWith(60_000).sendRequest(client, request())).status
    })
    expect(status).toBe(200)
    expect(client.attempts).toBe(2)
    // One 60 s timer per attempt was armed; a leaked one would keep the step alive.
    expect(pending).toBe(0)
  })

  test('a timeout is reported as a network error, which the retry strategy retries', async () => {
    const policy = attemptTimeoutPolicy(20)
    const error = await policy
      .sendRequest(
        request(),
        req =>
          new Promise((_, reject) =>
            req.abortSignal?.addEventListener('abort', () => reject(new Error('x')))
          )
      )
      .catch(e => e)
    expect(error).toBeInstanceOf(RestError)
    expect(error.code).toBe('ETIMEDOUT')
  })
})

describe('retry budget', () => {
  test('Retry-After is honoured until the total wait would pass the budget', async () => {
    const waits: number[] = []
    let calls = 0
    const throttled = Object.assign(new Error('throttled'), {
      statusCode: 429,
      response: { headers: { get: (name: string) => (name === 'retry-after' ? '60' : undefined) } }
    })
    await expect(
      retrying(
        async () => {
          calls++
          throw throttled
        },
        async ms => void waits.push(ms)
      )
    ).rejects.toBe(throttled)
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(RETRY_LIMITS.maxTotalWaitMs)
    expect(waits).toEqual([60_000, 60_000])
    expect(calls).toBe(3)
  })
})

describe('advice on 401 and 403', () => {
  const caller = {
    clientId: 'app-1',
    workspaceName: 'ws',
    workspaceId:
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws',
    role: 'AzureML Data Scientist' as const
  }

  test('a 403 names the identity, the role and the workspace, with the command', () => {
    const error = new AzureCallError(
      'Create artifacts in run r',
      403,
      'x',
      'AuthorizationFailed: no'
    )
    const message = (explainAccess(error, caller) as Error).message
    expect(message).toBe(
      "Create artifacts in run r failed with HTTP 403: AuthorizationFailed: no. The identity client app-1 lacks the 'AzureML Data Scientist' role on workspace 'ws': az role assignment create --role 'AzureML Data Scientist' --assignee app-1 --scope /subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws (assignments take a few minutes to apply)."
    )
  })

  test('the default chain: the client ARM names in its answer', () => {
    const error = new AzureCallError('Register', 403, 'x', "The client 'app-9' with object id 'o'")
    const message = (explainAccess(error, { ...caller, clientId: undefined }) as Error).message
    expect(message).toContain("identity client app-9 lacks the 'AzureML Data Scientist' role")
  })

  test('verify, which only reads, names the Reader role', () => {
    const error = new AzureCallError('Get model version', 403, 'x', 'AuthorizationFailed: no')
    const message = (explainAccess(error, { ...caller, role: 'Reader' }) as Error).message
    expect(message).toContain("lacks the 'Reader' role on workspace 'ws'")
    expect(message).toContain("az role assignment create --role 'Reader' --assignee app-1")
  })

  test('a 403 from a SAS URL is about the URL, not a role', () => {
    const error = callError('Upload artifact m', new RestError('denied', { statusCode: 403 }), {
      viaSas: true
    })
    expect(explainAccess(error, caller)).toBe(error)
  })

  test('Entra refusing the credential names the client; other sign-in failures keep their words', () => {
    const refused = callError(
      'Get job r',
      Object.assign(new Error('invalid_client: AADSTS7000215: Invalid client secret'), {
        name: 'AuthenticationError'
      })
    )
    expect((explainAccess(refused, caller) as Error).message).toBe(
      "Sign-in failed (needed for: Get job r): invalid_client: AADSTS7000215: Invalid client secret. The credential of client app-1 was rejected: check azure-credentials, or client-id/tenant-id and the federated credential's subject and audience."
    )
    const unavailable = callError(
      'Get job r',
      Object.assign(new Error("Add 'permissions: id-token: write'"), {
        name: 'CredentialUnavailableError'
      })
    )
    expect(explainAccess(unavailable, caller)).toBe(unavailable)
  })

  test('other failures are left as they are', () => {
    const error = new AzureCallError('Get job r', 503, 'Get job r failed with HTTP 503: busy.')
    expect(explainAccess(error, caller)).toBe(error)
    const plain = new Error('boom')
    expect(explainAccess(plain, caller)).toBe(plain)
  })
})

describe('the champion a re-run reports', () => {
  test('versions registered before another: by creation time, else by number', () => {
    const v = (version: string, createdAt?: string) => ({ version, id: '', createdAt })
    expect(registeredBefore(v('1', '2026-01-01T00:00:00Z'), v('2', '2026-02-01T00:00:00Z'))).toBe(
      true
    )
    expect(registeredBefore(v('3', '2026-03-01T00:00:00Z'), v('2', '2026-02-01T00:00:00Z'))).toBe(
      false
    )
    expect(registeredBefore(v('2'), v('2'))).toBe(false)
    expect(registeredBefore(v('9'), v('10'))).toBe(true)
    expect(registeredBefore(v('10'), v('9'))).toBe(false)
  })
})
