// Entra, GitHub OIDC and ARM/data-plane authorization, driven by the real @azure/identity.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Emulator } from '../../emulator/index.js'
import {
  armClient,
  armUrl,
  bearer,
  call,
  clientByRole,
  federatedCredential,
  githubIdToken,
  historyUrl,
  secretCredential,
  start
} from './helpers.js'

let emu: Emulator
beforeAll(async () => {
  emu = await start()
})
afterAll(async () => {
  await emu?.stop()
})

describe('Entra ID', () => {
  it('serves tenant metadata that points at its own token endpoint', async () => {
    const res = await call(`${emu.url}/${emu.tenantId}/v2.0/.well-known/openid-configuration`)
    expect(res.status).toBe(200)
    expect(res.json.token_endpoint).toBe(`${emu.url}/${emu.tenantId}/oauth2/v2.0/token`)
    expect(res.json.issuer).toBe(`${emu.url}/${emu.tenantId}/v2.0`)
  })

  it('issues a token to ClientSecretCredential', async () => {
    const token = await secretCredential(emu).getToken(`${emu.url}/.default`)
    expect(token?.token.split('.')).toHaveLength(3)
    expect(token!.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3000_000)
    const claims = JSON.parse(Buffer.from(token!.token.split('.')[1], 'base64url').toString())
    expect(claims).toMatchObject({
      aud: emu.url,
      tid: emu.tenantId,
      appid: clientByRole(emu, 'AzureML Data Scientist').clientId
    })
  })

  it('rejects a wrong secret with 401 invalid_client (AADSTS7000215)', async () => {
    const cred = secretCredential(emu, clientByRole(emu, 'AzureML Data Scientist').clientId, 'nope')
    await expect(cred.getToken(`${emu.url}/.default`)).rejects.toThrow(/AADSTS7000215/)
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: emu.clients[0].clientId,
      client_secret: 'nope',
      scope: `${emu.url}/.default`
    })
    const res = await fetch(`${emu.url}/${emu.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: form
    })
    expect(res.status).toBe(401)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] })
    expect(body).toHaveProperty('trace_id')
    expect(body).toHaveProperty('correlation_id')
  })

  it('rejects an unknown client and an unknown tenant', async () => {
    await expect(
      secretCredential(emu, 'aaaaaaaa-0000-0000-0000-000000000000', 'x').getToken(
        `${emu.url}/.default`
      )
    ).rejects.toThrow(/AADSTS700016/)
    const res = await call(
      `${emu.url}/00000000-dead-beef-0000-000000000000/v2.0/.well-known/openid-configuration`
    )
    expect(res.status).toBe(400)
    expect(res.json.error).toBe('invalid_tenant')
  })

  it('exchanges a GitHub OIDC token for an access token', async () => {
    const ids = emu.counters.githubIdTokens
    const assertions = emu.counters.entraAssertions
    const cred = federatedCredential(emu)
    const token = await cred.getToken(`${emu.url}/.default`)
    expect(token?.token).toBeTruthy()
    expect(emu.counters.entraAssertions).toBe(assertions + 1)
    // msal-node 5.6 calls the assertion callback twice per acquisition (request build + client
    // configuration), so one Entra token request costs two GitHub ID tokens.
    expect(emu.counters.githubIdTokens - ids).toBeGreaterThanOrEqual(1)
    const ws = await armClient(emu, cred).workspaces.get(emu.resourceGroup, emu.workspaceName)
    expect(ws.name).toBe(emu.workspaceName)
  })

  it('refuses an assertion with the wrong audience', async () => {
    await expect(
      federatedCredential(emu, 'api://other').getToken(`${emu.url}/.default`)
    ).rejects.toThrow(/AADSTS700212/)
  })

  it('GitHub OIDC requires the request token and echoes the audience', async () => {
    const res = await call(`${emu.oidc.requestUrl}&audience=x`, {
      headers: { authorization: 'Bearer wrong' }
    })
    expect(res.status).toBe(401)
    const jwt = await githubIdToken(emu, 'api://AzureADTokenExchange')
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())
    expect(claims).toMatchObject({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:octo/repo:ref:refs/heads/main',
      aud: 'api://AzureADTokenExchange'
    })
    expect(claims.exp - claims.iat).toBe(300)
  })
})

describe('ARM and data-plane authorization', () => {
  it('answers 401 InvalidAuthenticationToken without a token, with a bad one, or with a wrong audience', async () => {
    const none = await call(armUrl(emu, ''))
    expect(none.status).toBe(401)
    expect(none.json.error.code).toBe('InvalidAuthenticationToken')
    expect(none.headers.get('www-authenticate')).toBeNull()
    const bad = await call(armUrl(emu, ''), { token: 'a.b.c' })
    expect(bad.status).toBe(401)
    const storage = await secretCredential(emu).getToken('https://storage.azure.com/.default')
    const wrongAud = await call(armUrl(emu, ''), { token: storage!.token })
    expect(wrongAud.status).toBe(401)
    expect(wrongAud.json.error.message).toMatch(/audience/)
    const history = await call(historyUrl(emu, '/runs/iris-train-001/children'))
    expect(history.status).toBe(401)
  })

  it('accepts the ARM token on the data plane', async () => {
    const res = await call(historyUrl(emu, '/runs/iris-train-001/children'), {
      token: await bearer(emu)
    })
    expect(res.status).toBe(200)
  })

  it('lets a Reader read but not write (403 AuthorizationFailed)', async () => {
    const reader = clientByRole(emu, 'Reader')
    const client = armClient(emu, secretCredential(emu, reader.clientId))
    await expect(client.workspaces.get(emu.resourceGroup, emu.workspaceName)).resolves.toBeDefined()
    const put = client.modelVersions.createOrUpdate(
      emu.resourceGroup,
      emu.workspaceName,
      'm',
      '1',
      {
        properties: { modelUri: 'azureml://jobs/iris-train-001/outputs/artifacts/paths/model.pkl' }
      }
    )
    await expect(put).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' })
    await expect(put).rejects.toThrow(
      new RegExp(
        `client '${reader.clientId}' with object id .* does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/models/versions/write'`
      )
    )
  })
})
