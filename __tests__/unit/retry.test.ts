import {
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient
} from '@azure/core-rest-pipeline'
import {
  RETRY_LIMITS,
  backoffMs,
  gateRetryPolicy,
  retryAfterMs,
  retryHintMs,
  retrying
} from '../../src/retry.js'

const failure = (statusCode?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`failed ${statusCode ?? ''}`), { statusCode, ...extra })

describe('backoffMs', () => {
  test('grows exponentially within the jitter band and is capped', () => {
    expect(backoffMs(0, () => 0)).toBe(RETRY_LIMITS.baseDelayMs / 2)
    expect(backoffMs(0, () => 1)).toBe(RETRY_LIMITS.baseDelayMs)
    expect(backoffMs(3, () => 1)).toBe(RETRY_LIMITS.baseDelayMs * 8)
    expect(backoffMs(30, () => 1)).toBe(RETRY_LIMITS.maxDelayMs)
  })
})

describe('retryAfterMs', () => {
  test('seconds, dates, and a bound', () => {
    expect(retryAfterMs('2')).toBe(2000)
    expect(retryAfterMs(new Date(10_000).toUTCString(), 7_000)).toBe(3000)
    expect(retryAfterMs('86400')).toBe(RETRY_LIMITS.maxRetryAfterMs)
    expect(retryAfterMs(undefined)).toBeUndefined()
    expect(retryAfterMs('soon')).toBeUndefined()
  })
})

describe('retryHintMs', () => {
  const headers = (values: Record<string, string>) => createHttpHeaders(values)
  test('reads retry-after-ms and x-ms-retry-after-ms (milliseconds) as well as Retry-After', () => {
    expect(retryHintMs(headers({ 'retry-after-ms': '1500' }))).toBe(1500)
    expect(retryHintMs(headers({ 'x-ms-retry-after-ms': '250' }))).toBe(250)
    expect(retryHintMs(headers({ 'retry-after': '2' }))).toBe(2000)
    expect(retryHintMs(headers({}))).toBeUndefined()
  })
  test("in the Azure SDK's order: retry-after-ms, x-ms-retry-after-ms, then Retry-After", () => {
    const all = { 'retry-after-ms': '100', 'x-ms-retry-after-ms': '200', 'retry-after': '3' }
    expect(retryHintMs(headers(all))).toBe(100)
    expect(retryHintMs(headers({ ...all, 'retry-after-ms': 'soon' }))).toBe(200)
    expect(retryHintMs(headers({ 'x-ms-retry-after-ms': '0', 'retry-after': '3' }))).toBe(0)
    expect(retryHintMs(headers({ 'retry-after': new Date(10_000).toUTCString() }), 7_000)).toBe(
      3000
    )
  })
  test('bounded like Retry-After', () => {
    expect(retryHintMs(headers({ 'retry-after-ms': '86400000' }))).toBe(
      RETRY_LIMITS.maxRetryAfterMs
    )
  })
})

describe('gateRetryPolicy', () => {
  test('waits what retry-after-ms says, not the longer Retry-After', async () => {
    const sent: number[] = []
    const client: HttpClient = {
      async sendRequest(request) {
        sent.push(Date.now())
        const headers =
          sent.length === 1
            ? createHttpHeaders({ 'retry-after-ms': '50', 'retry-after': '5' })
            : createHttpHeaders()
        return { request, headers, status: sent.length === 1 ? 429 : 200 }
      }
    }
    const pipeline = createEmptyPipeline()
    pipeline.addPolicy(gateRetryPolicy())
    const response = await pipeline.sendRequest(
      client,
      createPipelineRequest({ url: 'https://127.0.0.1/x' })
    )
    expect(response.status).toBe(200)
    expect(sent).toHaveLength(2)
    expect(sent[1] - sent[0]).toBeGreaterThanOrEqual(40)
    expect(sent[1] - sent[0]).toBeLessThan(2000)
  })
})

describe('retrying', () => {
  test('honours x-ms-retry-after-ms', async () => {
    const waits: number[] = []
    let calls = 0
    await retrying(
      async () => {
        if (++calls === 1)
          throw failure(503, {
            response: { headers: createHttpHeaders({ 'x-ms-retry-after-ms': '700' }) }
          })
        return 'done'
      },
      async ms => void waits.push(ms)
    )
    expect(waits).toEqual([700])
  })

  test('retries throttling and server errors, honouring Retry-After', async () => {
    const waits: number[] = []
    let calls = 0
    const result = await retrying(
      async () => {
        calls++
        if (calls === 1)
          throw failure(429, { response: { headers: createHttpHeaders({ 'retry-after': '3' }) } })
        if (calls === 2) throw failure(503)
        if (calls === 3) throw failure(undefined, { code: 'ECONNRESET' })
        return 'done'
      },
      async ms => void waits.push(ms)
    )
    expect(result).toBe('done')
    expect(calls).toBe(4)
    expect(waits[0]).toBe(3000)
    expect(waits).toHaveLength(3)
  })

  test('does not retry a client error', async () => {
    let calls = 0
    await expect(
      retrying(
        async () => {
          calls++
          throw failure(400)
        },
        async () => undefined
      )
    ).rejects.toThrow('failed 400')
    expect(calls).toBe(1)
  })

  test('gives up after the bounded number of retries with the last error', async () => {
    let calls = 0
    await expect(
      retrying(
        async () => {
          calls++
          throw failure(500)
        },
        async () => undefined
      )
    ).rejects.toThrow('failed 500')
    expect(calls).toBe(RETRY_LIMITS.retries + 1)
  })
})
