// Bearer-token checks shared by ARM and the data plane: one Entra token (audience ARM or the
// emulator itself) opens both, as in Azure. Roles come from the seed's client list.
import type { Ctx, Plane } from './http.js'
import { HttpError } from './http.js'
import { nowSeconds, verifyJwt } from './jwt.js'
import type { SeedClient } from './seed.js'

export interface Principal {
  appid: string
  oid: string
  client: SeedClient
}

const ARM_AUDIENCES = ['https://management.azure.com', 'https://management.core.windows.net']

/** Throws 401 unless the request carries a valid, unexpired emulator token for ARM. No
 * WWW-Authenticate header: with `claims=` in it the SDK would treat the 401 as a CAE challenge. */
export function authenticate(ctx: Ctx, plane: Plane): Principal {
  const code = plane === 'arm' ? 'InvalidAuthenticationToken' : 'UserError'
  const deny = (message: string): HttpError => new HttpError(401, code, message)
  const header = ctx.req.headers.authorization ?? ''
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  if (!match) throw deny("Authentication failed. The 'Authorization' header is missing.")
  const claims = verifyJwt(match[1], ctx.svc.keys.entra)
  if (!claims) throw deny('The access token is invalid. The signature could not be verified.')
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds()) {
    throw deny('The access token has expired. Get a new token and try again.')
  }
  const aud = String(claims.aud ?? '').replace(/\/+$/, '')
  const audiences = [...ARM_AUDIENCES, ctx.svc.url, ctx.svc.apiUrl]
  if (!audiences.includes(aud)) {
    throw deny(`The access token has an invalid audience '${String(claims.aud)}'.`)
  }
  if (claims.tid !== ctx.svc.state.data.tenantId) {
    throw deny('The access token is from the wrong issuer.')
  }
  const client = ctx.svc.state.client(String(claims.appid))
  if (!client) throw deny('The access token names an unknown application.')
  return { appid: client.clientId, oid: String(claims.oid), client }
}

/** Throws 403 AuthorizationFailed unless the client's role allows the action. */
export function authorize(
  principal: Principal,
  write: boolean,
  action: string,
  scope: string
): void {
  const role = principal.client.role ?? 'AzureML Data Scientist'
  const allowed = role === 'AzureML Data Scientist' || (role === 'Reader' && !write)
  if (allowed) return
  const verb = write ? 'write' : 'read'
  const operation = action ? `${action}/${verb}` : verb
  throw new HttpError(
    403,
    'AuthorizationFailed',
    `The client '${principal.appid}' with object id '${principal.oid}' does not have authorization ` +
      `to perform action 'Microsoft.MachineLearningServices/workspaces/${operation}' over scope ` +
      `'${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
  )
}
