// Microsoft Entra ID, just enough for MSAL's client-credential flow (secret or federated
// assertion): tenant metadata, the v2 token endpoint and an empty JWKS.
import type { Ctx, Route } from './http.js'
import { entraError, readForm, sendJson } from './http.js'
import { nowSeconds, signJwt, verifyJwt } from './jwt.js'
import type { SeedClient } from './seed.js'
import { GITHUB_ISSUER } from './github.js'
import { stableGuid } from './services.js'

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const DEFAULT_FEDERATED_AUDIENCE = 'api://AzureADTokenExchange'
const TOKEN_TTL_SECONDS = 3599

/** Entra answers errors as OAuth JSON, never the ARM shape. */
class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string
  ) {
    super(description)
  }
}

function checkTenant(ctx: Ctx): string {
  const tenant = ctx.params[0]
  if (tenant.toLowerCase() !== ctx.svc.state.data.tenantId.toLowerCase()) {
    throw new EntraError(
      400,
      'invalid_tenant',
      `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID ` +
        'and are signing into the correct cloud.'
    )
  }
  return ctx.svc.state.data.tenantId
}

function metadata(ctx: Ctx): void {
  const tenant = checkTenant(ctx)
  const base = `${ctx.origin}/${tenant}`
  sendJson(ctx, 200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: [
      'client_secret_post',
      'private_key_jwt',
      'client_secret_basic'
    ],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'localhost',
    cloud_graph_host_name: 'localhost',
    msgraph_host: 'localhost'
  })
}

/** A stable GUID-shaped object id per client, so 403 messages name the same oid every time. */
export function objectIdOf(client: SeedClient): string {
  return client.objectId ?? stableGuid(`client:${client.clientId}`)
}

async function token(ctx: Ctx): Promise<void> {
  const tenant = checkTenant(ctx)
  const form = await readForm(ctx)
  const grant = form.get('grant_type')
  if (grant !== 'client_credentials') {
    throw new EntraError(
      400,
      'unsupported_grant_type',
      `AADSTS70003: The app requested an unsupported grant type '${grant}'.`
    )
  }
  const scope = (form.get('scope') ?? '').split(' ').find(s => s.endsWith('/.default'))
  if (!scope) {
    throw new EntraError(
      400,
      'invalid_scope',
      `AADSTS1002012: The provided value for scope ${form.get('scope')} is not valid. Client credential ` +
        'flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).'
    )
  }
  const clientId = form.get('client_id') ?? ''
  const client = ctx.svc.state.client(clientId)
  if (!client) {
    throw new EntraError(
      401,
      'invalid_client',
      `AADSTS700016: Application with identifier '${clientId}' was not found in the directory ` +
        `'${tenant}'. This can happen if the application has not been installed by the administrator of ` +
        'the tenant or consented to by any user in the tenant.'
    )
  }
  checkClientCredential(ctx, client, form)
  const now = nowSeconds()
  const oid = objectIdOf(client)
  const claims = {
    aud: scope.slice(0, -'/.default'.length),
    iss: `https://sts.windows.net/${tenant}/`,
    iat: now,
    nbf: now,
    exp: now + TOKEN_TTL_SECONDS + 1,
    appid: client.clientId,
    appidacr: form.has('client_assertion') ? '2' : '1',
    idtyp: 'app',
    oid,
    sub: oid,
    tid: tenant,
    ver: '1.0'
  }
  ctx.svc.counters.entraTokens += 1
  sendJson(ctx, 200, {
    token_type: 'Bearer',
    expires_in: TOKEN_TTL_SECONDS,
    ext_expires_in: TOKEN_TTL_SECONDS,
    access_token: signJwt(claims, ctx.svc.keys.entra)
  })
}

function checkClientCredential(ctx: Ctx, client: SeedClient, form: URLSearchParams): void {
  const assertion = form.get('client_assertion')
  if (assertion !== null) {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      throw new EntraError(
        400,
        'invalid_request',
        `AADSTS50027: client_assertion_type must be '${ASSERTION_TYPE}'.`
      )
    }
    ctx.svc.counters.entraAssertions += 1
    return checkAssertion(ctx, client, assertion)
  }
  const secret = form.get('client_secret')
  if (secret === null) {
    throw new EntraError(
      401,
      'invalid_client',
      "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
    )
  }
  if (!client.clientSecret || secret !== client.clientSecret) {
    throw new EntraError(
      401,
      'invalid_client',
      `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the ` +
        `client secret value, not the client secret ID, for a secret added to app '${client.clientId}'.`
    )
  }
}

function checkAssertion(ctx: Ctx, client: SeedClient, assertion: string): void {
  const claims = verifyJwt(assertion, ctx.svc.keys.github)
  if (!claims)
    throw new EntraError(
      400,
      'invalid_client',
      'AADSTS50012: Client assertion contains an invalid signature.'
    )
  const fed = client.federated
  const issuer = fed?.issuer ?? GITHUB_ISSUER
  const audience = fed?.audience ?? DEFAULT_FEDERATED_AUDIENCE
  const mismatch = (code: string, what: string, value: unknown): EntraError =>
    new EntraError(
      400,
      'invalid_client',
      `AADSTS${code}: No matching federated identity record found for presented assertion ${what} ` +
        `'${String(value)}'. Check your federated identity credential Subject, Audience and Issuer ` +
        'against the presented assertion.'
    )
  if (!fed || claims.iss !== issuer) throw mismatch('700211', 'issuer', claims.iss)
  if (claims.aud !== audience) throw mismatch('700212', 'audience', claims.aud)
  if (fed.subject && claims.sub !== fed.subject) throw mismatch('700213', 'subject', claims.sub)
  const now = nowSeconds()
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    throw new EntraError(
      400,
      'invalid_client',
      `AADSTS700024: Client assertion is not within its valid time range. Current time: ` +
        `${new Date(now * 1000).toISOString()}, expiry time of assertion ` +
        `${new Date(Number(claims.exp ?? 0) * 1000).toISOString()}.`
    )
  }
}

/** Wraps handlers so Entra failures come out in the OAuth error shape. */
function oauth(handler: (ctx: Ctx) => Promise<void> | void) {
  return async (ctx: Ctx): Promise<void> => {
    try {
      await handler(ctx)
    } catch (err) {
      if (!(err instanceof EntraError)) throw err
      sendJson(ctx, err.status, entraError(err.error, err.description))
    }
  }
}

const T = '([A-Za-z0-9.-]+)'

export const entraRoutes: Route[] = [
  {
    id: 'entra.metadata',
    plane: 'entra',
    methods: ['GET'],
    pattern: new RegExp(`^/${T}(?:/v2\\.0)?/\\.well-known/openid-configuration$`, 'i'),
    handle: oauth(metadata),
    notSentToAzure: true
  },
  {
    id: 'entra.token',
    plane: 'entra',
    methods: ['POST'],
    pattern: new RegExp(`^/${T}/oauth2/v2\\.0/token$`, 'i'),
    handle: oauth(token)
  },
  {
    id: 'entra.keys',
    plane: 'entra',
    methods: ['GET'],
    pattern: new RegExp(`^/${T}/discovery/v2\\.0/keys$`, 'i'),
    handle: ctx => sendJson(ctx, 200, { keys: [] })
  }
]
