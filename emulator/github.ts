// GitHub Actions OIDC provider: what `core.getIDToken(audience)` calls inside a job that has
// `permissions: id-token: write` ($ACTIONS_ID_TOKEN_REQUEST_URL + `&audience=`).
import { randomUUID } from 'node:crypto'
import type { Ctx, Route } from './http.js'
import { HttpError, sendJson } from './http.js'
import { nowSeconds, signJwt } from './jwt.js'

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
export const GITHUB_SUBJECT = 'repo:octo/repo:ref:refs/heads/main'
const ID_TOKEN_TTL_SECONDS = 300

function issueIdToken(ctx: Ctx): void {
  const given = /^Bearer\s+(\S+)$/i.exec(ctx.req.headers.authorization ?? '')?.[1]
  if (given !== ctx.svc.oidcRequestToken) {
    throw new HttpError(401, 'Unauthorized', 'Invalid or missing ACTIONS_ID_TOKEN_REQUEST_TOKEN')
  }
  const now = nowSeconds()
  const claims = {
    jti: randomUUID(),
    iss: GITHUB_ISSUER,
    sub: GITHUB_SUBJECT,
    aud: ctx.url.searchParams.get('audience') ?? 'https://github.com/octo',
    repository: 'octo/repo',
    repository_owner: 'octo',
    ref: 'refs/heads/main',
    event_name: 'push',
    workflow: 'ci',
    run_id: '1',
    iat: now,
    nbf: now - 5,
    exp: now + ID_TOKEN_TTL_SECONDS
  }
  ctx.svc.counters.githubIdTokens += 1
  sendJson(ctx, 200, { count: 1, value: signJwt(claims, ctx.svc.keys.github) })
}

export const githubRoutes: Route[] = [
  {
    id: 'github.oidc',
    plane: 'github',
    methods: ['GET'],
    pattern: /^\/_github\/oidc\/token\/?$/i,
    handle: issueIdToken
  }
]
