// GitHub Actions OIDC provider: what `core.getIDToken(audience)` calls inside a job that has
// `permissions: id-token: write` ($ACTIONS_ID_TOKEN_REQUEST_URL + `&audience=`); and the GitHub
// REST routes the gate's pull request comment uses, at GITHUB_API_URL = `<url>/_github/api`.
import { randomBytes, randomUUID } from 'node:crypto'
import type { Ctx, Route } from './http.js'
import { HttpError, readJson, sendJson } from './http.js'
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

/** An issue (or pull request) comment, with the fields of GitHub's `issue-comment` schema the
 * emulator keeps. */
export interface IssueComment {
  id: number
  owner: string
  repo: string
  issue: number
  body: string
  user: { login: string; id: number; type: string }
  created_at: string
  updated_at: string
}

/** The REST API's state: comments, the token it accepts, and whether that token may write. */
export class GitHubApi {
  /** What `${{ github.token }}` would be; `github-token` must be this. */
  readonly token = `ghs_${randomBytes(18).toString('hex')}`
  /** A fork's pull request: the token may read but not write (403). */
  readOnly = false
  readonly comments: IssueComment[] = []
  private nextId = 1001

  add(owner: string, repo: string, issue: number, body: string): IssueComment {
    const now = new Date().toISOString()
    const user = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' }
    const comment = {
      id: this.nextId++,
      owner,
      repo,
      issue,
      body,
      user,
      created_at: now,
      updated_at: now
    }
    this.comments.push(comment)
    return comment
  }
}

const API = '^/_github/api/repos/([^/]+)/([^/]+)/issues'
/** GitHub's default and largest page of a list. */
const PER_PAGE = { fallback: 30, max: 100 }

function authorise(ctx: Ctx, write: boolean): void {
  const given = /^(?:token|Bearer)\s+(\S+)$/i.exec(ctx.req.headers.authorization ?? '')?.[1]
  if (given !== ctx.svc.github.token) throw new HttpError(401, 'Unauthorized', 'Bad credentials')
  if (write && ctx.svc.github.readOnly) {
    throw new HttpError(403, 'Forbidden', 'Resource not accessible by integration')
  }
}

/** The comment as the REST API returns it. */
function present(ctx: Ctx, c: IssueComment): Record<string, unknown> {
  const repoApi = `${ctx.origin}/_github/api/repos/${c.owner}/${c.repo}`
  return {
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${repoApi}/issues/comments/${c.id}`,
    html_url: `https://github.com/${c.owner}/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
    issue_url: `${repoApi}/issues/${c.issue}`,
    body: c.body,
    user: c.user,
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: 'NONE'
  }
}

function listComments(ctx: Ctx): void {
  authorise(ctx, false)
  const [owner, repo, issue] = ctx.params
  const all = ctx.svc.github.comments.filter(
    c => c.owner === owner && c.repo === repo && c.issue === Number(issue)
  )
  const perPage = Math.min(
    Number(ctx.url.searchParams.get('per_page')) || PER_PAGE.fallback,
    PER_PAGE.max
  )
  const page = Math.max(Number(ctx.url.searchParams.get('page')) || 1, 1)
  const last = Math.max(Math.ceil(all.length / perPage), 1)
  const link = (n: number, rel: string) =>
    `<${ctx.origin}${ctx.url.pathname}?per_page=${perPage}&page=${n}>; rel="${rel}"`
  const links = page < last ? [link(page + 1, 'next'), link(last, 'last')] : []
  const slice = all.slice((page - 1) * perPage, page * perPage)
  sendJson(
    ctx,
    200,
    slice.map(c => present(ctx, c)),
    links.length ? { link: links.join(', ') } : {}
  )
}

async function createComment(ctx: Ctx): Promise<void> {
  authorise(ctx, true)
  const [owner, repo, issue] = ctx.params
  const body = ((await readJson(ctx)) as { body?: unknown } | undefined)?.body
  if (typeof body !== 'string' || body === '') {
    throw new HttpError(422, 'Unprocessable', 'Invalid request: body is required')
  }
  sendJson(ctx, 201, present(ctx, ctx.svc.github.add(owner, repo, Number(issue), body)))
}

async function updateComment(ctx: Ctx): Promise<void> {
  authorise(ctx, true)
  const [owner, repo, id] = ctx.params
  const comment = ctx.svc.github.comments.find(
    c => c.id === Number(id) && c.owner === owner && c.repo === repo
  )
  if (!comment) throw new HttpError(404, 'NotFound', 'Not Found')
  const body = ((await readJson(ctx)) as { body?: unknown } | undefined)?.body
  if (typeof body !== 'string' || body === '') {
    throw new HttpError(422, 'Unprocessable', 'Invalid request: body is required')
  }
  comment.body = body
  comment.updated_at = new Date().toISOString()
  sendJson(ctx, 200, present(ctx, comment))
}

export const githubRoutes: Route[] = [
  {
    id: 'github.oidc',
    plane: 'github',
    methods: ['GET'],
    pattern: /^\/_github\/oidc\/token\/?$/i,
    handle: issueIdToken
  },
  {
    id: 'github.comments.list',
    plane: 'github-api',
    methods: ['GET'],
    pattern: new RegExp(`${API}/(\\d+)/comments/?$`),
    handle: listComments
  },
  {
    id: 'github.comments.create',
    plane: 'github-api',
    methods: ['POST'],
    pattern: new RegExp(`${API}/(\\d+)/comments/?$`),
    handle: createComment
  },
  {
    id: 'github.comments.update',
    plane: 'github-api',
    methods: ['PATCH'],
    pattern: new RegExp(`${API}/comments/(\\d+)/?$`),
    handle: updateComment
  }
]
