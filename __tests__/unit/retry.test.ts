import { RETRY_LIMITS, backoffMs, retryAfterMs, retrying } from '../../src/retry.js'

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

describe('retrying', () => {
  test('retries throttling and server errors, honouring Retry-After', async () => {
    const waits: number[] = []
    let calls = 0
    const result = await retrying(
      async () => {
        calls++
        if (calls === 1) throw failure(429, { response: { headers: { get: () => '3' } } })
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
