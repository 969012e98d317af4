// What a sign-in costs on Azure's own clouds. MSAL ships the OpenID metadata of their
// authorities, so signing in is the token request alone; against any other authority (the
// emulator's included) MSAL first fetches the tenant's openid-configuration. The emulator
// answers that extra request without latency (emulator/entra.ts) and the benchmark leaves it
// out of the chain: this test is what allows both. The credentials are the SDK's own, built
// with the action's options; their HTTP client is an in-process recorder, so nothing leaves.
import { jest } from '@jest/globals'
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity'
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse
} from '@azure/core-rest-pipeline'
import { credentialOptions, reusedBriefly } from '../../src/auth.js'
import { resolveCloud } from '../../src/inputs.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const SCOPE = 'https://management.azure.com/.default'

/** Answers like Entra: a token for the token endpoint, a metadata document for the rest. */
function recorder(): HttpClient & { sent: string[] } {
  const sent: string[] = []
  return {
    sent,
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url)
      sent.push(`${request.method} ${url.origin}${url.pathname}`)
      const base = `${url.origin}/${TENANT}`
      const body = url.pathname.endsWith('/oauth2/v2.0/token')
        ? { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'e30.e30.' }
        : {
            token_endpoint: `${base}/oauth2/v2.0/token`,
            authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
            end_session_endpoint: `${base}/oauth2/v2.0/logout`,
            jwks_uri: `${base}/discovery/v2.0/keys`,
            issuer: `${base}/v2.0`
          }
      return {
        request,
        status: 200,
        headers: createHttpHeaders({ 'content-type': 'application/json' }),
        bodyAsText: JSON.stringify(body)
      }
    }
  }
}

function cloudNamed(name: string, authorityHost?: string) {
  process.env.INPUT_CLOUD = name
  try {
    return resolveCloud(authorityHost ? { AZURE_AUTHORITY_HOST: authorityHost } : {})
  } finally {
    delete process.env.INPUT_CLOUD
  }
}

const tokenPost = (host: string) => `POST https://${host}/${TENANT}/oauth2/v2.0/token`

describe('a sign-in on Azure is one request', () => {
  test.each([
    ['AzureCloud', 'login.microsoftonline.com'],
    ['AzureUSGovernment', 'login.microsoftonline.us'],
    // MSAL sends the China cloud's legacy alias to its preferred host.
    ['AzureChinaCloud', 'login.partner.microsoftonline.cn']
  ])('%s: client secret', async (name, tokenHost) => {
    const http = recorder()
    const credential = new ClientSecretCredential(TENANT, 'client', 'secret', {
      ...credentialOptions(cloudNamed(name)),
      httpClient: http
    })
    expect(await credential.getToken(SCOPE)).toMatchObject({ token: 'e30.e30.' })
    expect(http.sent).toEqual([tokenPost(tokenHost)])
  })

  test('AzureCloud: GitHub OIDC federation asks GitHub once, then Entra once', async () => {
    const http = recorder()
    const fetchIdToken = jest.fn(async () => 'github.id.token')
    // MSAL calls the assertion callback twice per token: the action's reuse makes that one fetch.
    const credential = new ClientAssertionCredential(
      TENANT,
      'client',
      reusedBriefly(fetchIdToken),
      {
        ...credentialOptions(cloudNamed('AzureCloud')),
        httpClient: http
      }
    )
    await credential.getToken(SCOPE)
    expect(fetchIdToken).toHaveBeenCalledTimes(1)
    expect(http.sent).toEqual([tokenPost('login.microsoftonline.com')])
  })
})

describe('any other authority costs a metadata request first', () => {
  test('the emulator-like loopback authority', async () => {
    const http = recorder()
    const credential = new ClientSecretCredential(TENANT, 'client', 'secret', {
      ...credentialOptions(cloudNamed('AzureCloud', 'https://127.0.0.1:8443')),
      httpClient: http
    })
    await credential.getToken(SCOPE)
    expect(http.sent).toEqual([
      `GET https://127.0.0.1:8443/${TENANT}/v2.0/.well-known/openid-configuration`,
      tokenPost('127.0.0.1:8443')
    ])
  })
})
