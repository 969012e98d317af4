// ARM model registry: containers (derived from their versions), version list with the query
// options azure-ai-ml uses, version get, and the immutable-but-for-description-and-tags PUT.
import { randomUUID } from 'node:crypto'
import { armRoute, systemData } from './arm.js'
import type { Principal } from './auth.js'
import type { Ctx, Route } from './http.js'
import { HttpError, readJson, selfLink, sendJson } from './http.js'
import type { SeedModel, SeedModelVersion } from './seed.js'

const MODEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/
const VERSION = /^[a-zA-Z0-9][a-zA-Z0-9.\-_]{0,29}$/
const DEFAULT_PAGE = 20
const CREATED = (v: SeedModelVersion): number => Date.parse(v.createdAt ?? '') || 0

const notFound = (what: string): HttpError => new HttpError(404, 'UserError', `${what} not found.`)

function versionResource(ws: string, name: string, v: SeedModelVersion): object {
  return {
    id: `${ws}/models/${name}/versions/${v.version}`,
    name: v.version,
    type: 'Microsoft.MachineLearningServices/workspaces/models/versions',
    properties: {
      modelUri: v.modelUri,
      modelType: v.modelType ?? 'custom_model',
      jobName: v.jobName ?? null,
      description: v.description ?? null,
      tags: v.tags ?? {},
      properties: v.properties ?? {},
      isArchived: v.isArchived ?? false,
      isAnonymous: false,
      flavors: v.flavors ?? null,
      provisioningState: 'Succeeded'
    },
    systemData: systemData(
      v.createdAt ?? '',
      v.createdBy ?? 'seed',
      v.lastModifiedAt ?? v.createdAt
    )
  }
}

/** Latest = most recently created; next = highest numeric version + 1. */
export function containerVersions(model: SeedModel): {
  latestVersion: string
  nextVersion: string
} {
  const byAge = model.versions
    .map((v, i) => ({ v, i }))
    .sort((a, b) => CREATED(b.v) - CREATED(a.v) || b.i - a.i)
  const numeric = model.versions
    .map(v => Number(v.version))
    .filter(n => Number.isInteger(n) && n >= 0)
  return {
    latestVersion: byAge[0]?.v.version ?? '',
    nextVersion: String(numeric.length > 0 ? Math.max(...numeric) + 1 : 1)
  }
}

function getContainer(ctx: Ctx, ws: string): void {
  const name = ctx.params[3]
  const model = ctx.svc.state.model(name)
  if (!model || model.versions.length === 0) throw notFound(`Model container ${name}`)
  const first = model.versions.reduce((a, b) => (CREATED(a) <= CREATED(b) ? a : b))
  sendJson(ctx, 200, {
    id: `${ws}/models/${name}`,
    name,
    type: 'Microsoft.MachineLearningServices/workspaces/models',
    properties: {
      description: model.description ?? null,
      tags: model.tags ?? {},
      properties: {},
      isArchived: false,
      ...containerVersions(model),
      provisioningState: 'Succeeded'
    },
    systemData: systemData(first.createdAt ?? '', first.createdBy ?? 'seed')
  })
}

/** `tags`/`properties` filters: comma-separated `key` or `key=value`, all must match. */
function matchesAll(values: Record<string, string> | undefined, filter: string | null): boolean {
  if (!filter) return true
  return filter.split(',').every(term => {
    const [key, ...rest] = term.trim().split('=')
    const v = values?.[key]
    return v !== undefined && (rest.length === 0 || v === rest.join('='))
  })
}

function intParam(ctx: Ctx, key: string, fallback: number): number {
  const raw = ctx.url.searchParams.get(key)
  if (raw === null) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'UserError', `Invalid ${key}: ${raw}`)
  return n
}

function sortVersions(versions: SeedModelVersion[], orderBy: string): SeedModelVersion[] {
  const indexed = versions.map((v, i) => ({ v, i }))
  const numericDesc = (a: SeedModelVersion, b: SeedModelVersion): number =>
    Number(b.version) - Number(a.version) || b.version.localeCompare(a.version)
  const compare: Record<string, (a: { v: SeedModelVersion; i: number }, b: typeof a) => number> = {
    'createdtime desc': (a, b) => CREATED(b.v) - CREATED(a.v) || b.i - a.i,
    'createdtime asc': (a, b) => CREATED(a.v) - CREATED(b.v) || a.i - b.i,
    'version desc': (a, b) => numericDesc(a.v, b.v),
    'version asc': (a, b) => numericDesc(b.v, a.v)
  }
  const key = orderBy.trim().toLowerCase().replace(/\s+/g, ' ')
  const fn = compare[key]
  if (!fn) throw new HttpError(400, 'UserError', `Unsupported $orderBy '${orderBy}'.`)
  return indexed.sort(fn).map(x => x.v)
}

function listVersions(ctx: Ctx, ws: string): void {
  const name = ctx.params[3]
  const q = ctx.url.searchParams
  const view = (q.get('listViewType') ?? 'ActiveOnly').toLowerCase()
  const matching = ctx.svc.state
    .listModelVersions(name)
    .filter(
      v =>
        (view === 'all' || (view === 'archivedonly') === (v.isArchived ?? false)) &&
        matchesAll(v.tags, q.get('tags')) &&
        matchesAll(v.properties, q.get('properties'))
    )
  const sorted = sortVersions(
    matching,
    q.get('$orderBy') ?? q.get('$orderby') ?? 'createdtime desc'
  )
  const skip = intParam(ctx, '$skip', 0)
  const asked = intParam(ctx, '$top', 0)
  const top = asked || DEFAULT_PAGE
  const page = sorted.slice(skip, skip + top)
  // The spec: $top is the "maximum number of records to return". Read as a cap, nothing
  // follows the first page; read as a page size, nextLink keeps every filter and the
  // api-version, and only $skip moves.
  const capped = ctx.svc.settings.topReading === 'cap' && asked > 0
  sendJson(ctx, 200, {
    value: page.map(v => versionResource(ws, name, v)),
    nextLink:
      !capped && skip + top < sorted.length ? selfLink(ctx, { $skip: String(skip + top) }) : null
  })
}

function getVersion(ctx: Ctx, ws: string): void {
  const [, , , name, version] = ctx.params
  const v = ctx.svc.state.getModelVersion(name, version)
  if (!v) throw notFound(`Model ${name}:${version}`)
  sendJson(ctx, 200, versionResource(ws, name, v))
}

function flavorsOf(value: unknown): SeedModelVersion['flavors'] {
  if (value === undefined || value === null) return undefined
  const ok =
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value as object).every(
      f =>
        typeof f === 'object' &&
        f !== null &&
        stringMap((f as { data?: unknown }).data, 'flavors.data') !== null
    )
  if (!ok) throw new HttpError(400, 'UserError', 'The field flavors must map names to FlavorData.')
  return value as SeedModelVersion['flavors']
}

function stringMap(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined
  const ok =
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value as object).every(v => typeof v === 'string')
  if (!ok) throw new HttpError(400, 'UserError', `The field ${field} must map strings to strings.`)
  return value as Record<string, string>
}

/**
 * The modelUri Azure may store instead of the one sent. Recorded for a datastore path
 * (azure-ai-ml tests/recordings/model/e2etests/test_model.pyTestModeltest_crud_file.json:
 * `.../datastores/workspaceblobstore/paths/LocalUpload/...` comes back as
 * `.../resourceGroups/.../paths/ServiceReplicated/<guid>/LocalUpload/...`); for a run artifact
 * (`azureml://jobs/<run>/outputs/artifacts/paths/<p>`) the resolution to the artifact
 * store's `ExperimentRun/dcid.<run>/<p>` is *inferred*.
 */
export function azureModelUri(ctx: Ctx, uri: string): string {
  const d = ctx.svc.state.data
  const scope = `azureml://subscriptions/${d.subscriptionId}/resourceGroups/${d.resourceGroup}/workspaces/${d.workspace.name}/datastores`
  const job = /^azureml:\/\/jobs\/([^/]+)\/outputs\/artifacts\/paths\/(.+)$/.exec(uri)
  if (job) return `${scope}/workspaceartifactstore/paths/ExperimentRun/dcid.${job[1]}/${job[2]}`
  const store = /^azureml:\/\/.*\/datastores\/([^/]+)\/paths\/(.+)$/.exec(uri)
  if (store) return `${scope}/${store[1]}/paths/ServiceReplicated/${randomUUID()}/${store[2]}`
  return uri
}

async function putVersion(ctx: Ctx, who: Principal, ws: string): Promise<void> {
  const [, , , name, version] = ctx.params
  if (!MODEL_NAME.test(name)) throw new HttpError(400, 'UserError', `Invalid model name '${name}'.`)
  if (!VERSION.test(version)) throw new HttpError(400, 'UserError', `Invalid version '${version}'.`)
  const body = (await readJson(ctx)) as { properties?: Record<string, unknown> } | undefined
  const p = body?.properties
  if (!p || typeof p !== 'object')
    throw new HttpError(400, 'UserError', 'The field properties is required.')
  if (typeof p.modelUri !== 'string' || p.modelUri === '') {
    throw new HttpError(400, 'UserError', 'The field modelUri is required.')
  }
  const tags = stringMap(p.tags, 'tags')
  const properties = stringMap(p.properties, 'properties')
  const description = typeof p.description === 'string' ? p.description : undefined
  const { state } = ctx.svc
  const modelUri =
    ctx.svc.settings.modelUriMode === 'azure' ? azureModelUri(ctx, p.modelUri) : p.modelUri
  const existing = state.getModelVersion(name, version)
  if (existing) {
    if (existing.modelUri !== modelUri) {
      throw new HttpError(400, 'UserError', 'Asset paths cannot be updated.')
    }
    state.updateModelVersion(name, version, { description, tags: tags ?? existing.tags })
    return sendJson(ctx, 200, versionResource(ws, name, existing))
  }
  const stored = state.addModelVersion(name, {
    version,
    modelUri,
    flavors: flavorsOf(p.flavors),
    modelType: typeof p.modelType === 'string' ? p.modelType : 'custom_model',
    jobName: typeof p.jobName === 'string' ? p.jobName : undefined,
    description,
    tags: tags ?? {},
    properties: properties ?? {},
    isArchived: p.isArchived === true,
    createdBy: who.appid
  })
  sendJson(ctx, 201, versionResource(ws, name, stored))
}

const read = { action: 'models', write: false }
const MODEL = '/models/([^/]+)'
export const modelRoutes: Route[] = [
  armRoute('arm.model.container.get', 'GET', MODEL, read, (ctx, _w, ws) => getContainer(ctx, ws)),
  armRoute(
    'arm.model.versions.list',
    'GET',
    `${MODEL}/versions`,
    { action: 'models/versions', write: false },
    (ctx, _w, ws) => listVersions(ctx, ws)
  ),
  armRoute(
    'arm.model.version.get',
    'GET',
    `${MODEL}/versions/([^/]+)`,
    { action: 'models/versions', write: false },
    (ctx, _w, ws) => getVersion(ctx, ws)
  ),
  armRoute(
    'arm.model.version.put',
    'PUT',
    `${MODEL}/versions/([^/]+)`,
    { action: 'models/versions', write: true },
    putVersion
  )
]
