import type { AccessToken, TokenCredential } from '@azure/core-auth'
import { explainUnreachableAuthority, reusedBriefly, shareTokens } from '../../src/auth.js'

function countingCredential(lifetimeMs: number) {
  const calls: string[] = []
  const credential: TokenCredential = {
    async getToken(scopes) {
      calls.push(([] as string[]).concat(scopes).join(' '))
      await new Promise(resolve => setTimeout(resolve, 10))
      return {
        token: `t${calls.length}`,
        expiresOnTimestamp: Date.now() + lifetimeMs
      } as AccessToken
    }
  }
  return { calls, credential }
}

describe('shareTokens', () => {
  test('concurrent requests for one scope share one token request', async () => {
    const { calls, credential } = countingCredential(3_600_000)
    const shared = shareTokens(credential)
    const tokens = await Promise.all(
      [1, 2, 3, 4].map(() => shared.getToken('https://arm/.default'))
    )
    expect(calls).toEqual(['https://arm/.default'])
    expect(new Set(tokens.map(t => t?.token))).toEqual(new Set(['t1']))
    await shared.getToken('https://other/.default')
    expect(calls).toHaveLength(2)
  })

  test('a token close to expiry is refreshed', async () => {
    const { calls, credential } = countingCredential(60_000)
    const shared = shareTokens(credential)
    await shared.getToken('s')
    await shared.getToken('s')
    expect(calls).toHaveLength(2)
  })

  test('a failed request is not cached', async () => {
    let fail = true
    const shared = shareTokens({
      async getToken() {
        if (fail) {
          fail = false
          throw new Error('boom')
        }
        return { token: 'ok', expiresOnTimestamp: Date.now() + 3_600_000 }
      }
    })
    await expect(shared.getToken('s')).rejects.toThrow('boom')
    await expect(shared.getToken('s')).resolves.toMatchObject({ token: 'ok' })
  })
})

describe('reusedBriefly', () => {
  test('calls within the window share one fetch; a later call fetches again', async () => {
    let fetches = 0
    const assertion = reusedBriefly(async () => `id${++fetches}`, 50)
    expect(await assertion()).toBe('id1')
    expect(await assertion()).toBe('id1')
    expect(fetches).toBe(1)
    await new Promise(resolve => setTimeout(resolve, 60))
    expect(await assertion()).toBe('id2')
  })

  test('a failed fetch is not reused', async () => {
    let fetches = 0
    const assertion = reusedBriefly(async () => {
      if (++fetches === 1) throw new Error('503')
      return 'ok'
    })
    await expect(assertion()).rejects.toThrow('503')
    await expect(assertion()).resolves.toBe('ok')
    expect(fetches).toBe(2)
  })
})

describe('explainUnreachableAuthority', () => {
  const failing = (error: Error): TokenCredential => ({
    async getToken() {
      throw error
    }
  })
  const named = (name: string, message: string) => Object.assign(new Error(message), { name })

  test.each([
    named(
      'CredentialUnavailableError',
      'endpoints_resolution_error: See https://aka.ms/msal.js.errors#endpoints_resolution_error for details'
    ),
    named('AuthenticationError', 'connect ECONNREFUSED 127.0.0.1:1'),
    named('CredentialUnavailableError', 'getaddrinfo ENOTFOUND login.example')
  ])('a network failure names the host and the inputs to check: %s', async error => {
    const credential = explainUnreachableAuthority(failing(error), 'https://login.example.test/')
    await expect(credential.getToken('s')).rejects.toThrow(
      /^Sign-in failed: the Microsoft Entra authority login\.example\.test could not be reached after retries \(.+\); check the cloud and authority-host inputs/
    )
  })

  test("Entra's own answers pass through unchanged", async () => {
    const refused = Object.assign(
      named('AuthenticationError', 'AADSTS7000215: Invalid client secret'),
      {
        statusCode: 401
      }
    )
    const credential = explainUnreachableAuthority(failing(refused), 'https://login.example.test')
    await expect(credential.getToken('s')).rejects.toBe(refused)
  })
})
