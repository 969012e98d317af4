import type { ModelVersion } from '@azure/arm-machinelearning'
import type { Big } from 'big.js'
import { parseDecimal } from '../decision.js'
import type { CompareTo } from '../inputs.js'
import { ownValue, stringMap } from '../records.js'
import { GATE_PROPERTIES } from '../provenance.js'
import { callError } from './http.js'
import type { Workspace } from './workspace.js'

/** A registered version as the gate sees it: our own small type, not the SDK's. */
export interface VersionInfo {
  version: string
  id: string
  jobName?: string
  modelUri?: string
  createdAt?: string
  /** The gate's own immutable properties (GATE_PROPERTIES): whose model this version holds */
  gateRunId?: string
  gateArtifactPath?: string
  tags?: Record<string, string>
  /** The metric property, parsed; undefined when absent or not a number */
  value?: Big
  rawValue?: string
  /** Set when the score was not read from the version's property (e.g. from its job) */
  note?: string
  /** The version's own properties: guardrail metrics and the gate's provenance among them */
  properties?: Record<string, string>
}

/** A version whose metric property is a number: it can be a champion. */
export type ScoredVersion = VersionInfo & { value: Big }

export interface ChampionLookup {
  champion?: ScoredVersion
  /** Newest versions with a score, newest first (at most HISTORY_SIZE), for the summary chart */
  history: ScoredVersion[]
  /** Versions whose metric property could not be used, newest first */
  skipped: VersionInfo[]
  /** Versions listed, newest first: at least the first page, and every one when no champion */
  listed: VersionInfo[]
}

export const HISTORY_SIZE = 20

/**
 * The version to beat. `latest`: the newest version with a numeric score; `best`: the best
 * score of all; `tag:K=V`: the newest version with that tag. One page of the newest versions
 * usually answers, so only `best` reads every page.
 */
export async function findChampion(
  ws: Workspace,
  modelName: string,
  metric: string,
  compareTo: CompareTo,
  higherIsBetter: boolean,
  /** Only versions registered before this one count: the champion it was compared against */
  before?: VersionInfo
): Promise<ChampionLookup> {
  const newest = listVersions(ws, modelName, metric, { top: HISTORY_SIZE }, before)
  if (compareTo.kind === 'tag') {
    const tagged = withTag(
      listVersions(ws, modelName, metric, { ...tagFilter(compareTo), top: HISTORY_SIZE }, before),
      compareTo
    )
    const [history, withTagScored] = await Promise.all([
      firstScored(newest, HISTORY_SIZE),
      firstScored(tagged, 1)
    ])
    return {
      champion: withTagScored.scored[0],
      history: history.scored,
      skipped: withTagScored.skipped,
      listed: history.seen
    }
  }
  if (compareTo.kind === 'latest') {
    const { scored, skipped, seen } = await firstScored(newest, HISTORY_SIZE, 1)
    return { champion: scored[0], history: scored, skipped, listed: seen }
  }
  // Every version matters: no $top, every page.
  const all = await firstScored(listVersions(ws, modelName, metric, {}, before), Infinity)
  let best: ScoredVersion | undefined
  for (const version of all.scored) {
    // Newest first, so an equal score keeps the newer version.
    if (
      !best ||
      version.value
        .minus(best.value)
        .times(higherIsBetter ? 1 : -1)
        .gt(0)
    )
      best = version
  }
  return {
    champion: best,
    history: all.scored.slice(0, HISTORY_SIZE),
    skipped: all.skipped,
    listed: all.seen
  }
}

/**
 * The service's `tags` filter is a comma-separated list of `name` or `name=value` (ARM spec,
 * ModelVersions_List), so a value holding ',' or '=' cannot be sent as it is: the filter names
 * the tag only then, and the value is always compared here, exactly.
 */
function tagFilter({ key, value }: { key: string; value: string }): { tags?: string } {
  if (/[,=]/.test(key)) return {}
  return { tags: /[,=]/.test(value) ? key : `${key}=${value}` }
}

async function* withTag(
  pages: AsyncIterable<VersionInfo[]>,
  { key, value }: { key: string; value: string }
): AsyncIterable<VersionInfo[]> {
  for await (const page of pages)
    yield page.filter(version => ownValue(version.tags, key) === value)
}

/**
 * Collects up to `wanted` scored versions, reading further pages only while fewer than
 * `enough` have been found (the caller's page already holds the rest).
 */
async function firstScored(
  pages: AsyncIterable<VersionInfo[]>,
  wanted: number,
  enough = wanted
): Promise<{ scored: ScoredVersion[]; skipped: VersionInfo[]; seen: VersionInfo[] }> {
  const scored: ScoredVersion[] = []
  const skipped: VersionInfo[] = []
  const seen: VersionInfo[] = []
  for await (const page of pages) {
    seen.push(...page)
    for (const version of page) {
      if (version.value) {
        if (scored.length < wanted) scored.push(version as ScoredVersion)
      } else {
        skipped.push(version)
      }
    }
    if (scored.length >= enough) break
  }
  return { scored, skipped, seen }
}

/**
 * Versions, newest first, page by page. The spec calls `$top` the "maximum number of records
 * to return": a service may read it as a page size (nextLink to more) or as a cap on the whole
 * listing (no nextLink). So a full page without a nextLink is read on without `$top`, skipping
 * what was already seen, for callers that want more.
 */
async function* listVersions(
  ws: Workspace,
  modelName: string,
  metric: string,
  filter: { tags?: string; top?: number },
  before?: VersionInfo
): AsyncIterable<VersionInfo[]> {
  const seen = new Set<string>()
  for (const top of filter.top ? [filter.top, undefined] : [undefined]) {
    let last: { size: number; more: boolean } | undefined
    for await (const page of versionPages(ws, modelName, { tags: filter.tags, top })) {
      last = { size: page.length, more: Boolean(ws.continuationTokenOf(page)) }
      const fresh = page.filter(version => !seen.has(version.name ?? ''))
      for (const version of fresh) seen.add(version.name ?? '')
      const versions = fresh.map(version => toVersionInfo(version, metric))
      yield before ? versions.filter(version => registeredBefore(version, before)) : versions
    }
    if (!top || !last || last.more || last.size < top) return
  }
}

async function* versionPages(
  ws: Workspace,
  modelName: string,
  options: { tags?: string; top?: number }
): AsyncIterable<ModelVersion[]> {
  const query = { orderBy: 'createdtime desc', ...(options.tags ? { tags: options.tags } : {}) }
  const pages = ws.arm.modelVersions
    .list(ws.ref.resourceGroup, ws.ref.workspaceName, modelName, {
      ...query,
      ...(options.top ? { top: options.top } : {})
    })
    .byPage()
  try {
    yield* pages
  } catch (error) {
    // A model that was never registered lists as 404 on some API versions.
    if (callError('List model versions', error).status === 404) return
    throw callError(`List versions of model ${modelName}`, error)
  }
}

/**
 * Whether `version` was registered before `other`: by creation time, else by number. Versions
 * that cannot be ordered count as earlier.
 */
export function registeredBefore(version: VersionInfo, other: VersionInfo): boolean {
  if (version.version === other.version) return false
  if (version.createdAt && other.createdAt) return version.createdAt < other.createdAt
  const [a, b] = [Number(version.version), Number(other.version)]
  return Number.isFinite(a) && Number.isFinite(b) ? a < b : true
}

export function toVersionInfo(version: ModelVersion, metric: string): VersionInfo {
  const rawValue = ownValue(version.properties?.properties, metric)
  return {
    version: version.name ?? '',
    id: version.id ?? '',
    jobName: version.properties?.jobName,
    modelUri: version.properties?.modelUri,
    createdAt: isoDate(version.systemData?.createdAt),
    gateRunId: ownValue(version.properties?.properties, GATE_PROPERTIES.runId),
    gateArtifactPath: ownValue(version.properties?.properties, GATE_PROPERTIES.artifactPath),
    tags: stringMap(version.properties?.tags),
    value: parseDecimal(rawValue),
    rawValue,
    properties: stringMap(version.properties?.properties)
  }
}

function isoDate(date: Date | undefined): string | undefined {
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined
}

/** The version number to register next: the container's nextVersion, 1 for a new model. */
export async function nextVersion(ws: Workspace, modelName: string): Promise<string> {
  try {
    const container = await ws.arm.modelContainers.get(
      ws.ref.resourceGroup,
      ws.ref.workspaceName,
      modelName
    )
    const next = container.properties?.nextVersion ?? undefined
    if (next) return next
    const latest = Number(container.properties?.latestVersion)
    return Number.isInteger(latest) ? String(latest + 1) : '1'
  } catch (error) {
    const failure = callError(`Get model ${modelName}`, error)
    if (failure.status === 404) return '1'
    throw failure
  }
}

/** What identifies this run's model: the run, and where its model landed in the run. */
export interface RunModel {
  runId: string
  artifactPath: string
  /** As sent; only for versions registered before the gate wrote GATE_PROPERTIES */
  modelUri: string
}

/**
 * Whether a version holds this run's model: by the gate's own properties, never by the
 * service's echo of modelUri. Versions without them (registered by an earlier release of
 * the gate) are matched as before, by jobName and the URI as sent.
 */
export function holdsRunModel(version: VersionInfo, model: RunModel): boolean {
  if (version.gateArtifactPath !== undefined) {
    return (
      (version.gateRunId ?? version.jobName) === model.runId &&
      version.gateArtifactPath === model.artifactPath
    )
  }
  const trim = (uri: string | undefined) => (uri ?? '').replace(/\/+$/, '')
  return version.jobName === model.runId && trim(version.modelUri) === trim(model.modelUri)
}

/**
 * The `latest` champion a version was compared against when it was registered, from the
 * versions already listed, when they tell it: the listing ended within its first page (so it
 * holds every version) and no version was scored from its job. Undefined: list again.
 */
export function championBefore(
  lookup: ChampionLookup,
  existing: VersionInfo,
  compareTo: CompareTo
): { champion?: ScoredVersion } | undefined {
  if (compareTo.kind !== 'latest' || lookup.listed.length >= HISTORY_SIZE) return undefined
  if (lookup.skipped.length > 0 || lookup.history.some(version => version.note)) return undefined
  if (!lookup.listed.some(version => version.version === existing.version)) return undefined
  return { champion: lookup.history.find(version => registeredBefore(version, existing)) }
}

/** A version of this model that already holds this run's model, newest first. */
export async function findVersionHolding(
  ws: Workspace,
  modelName: string,
  metric: string,
  model: RunModel,
  seen: VersionInfo[]
): Promise<VersionInfo | undefined> {
  const holds = (version: VersionInfo) => holdsRunModel(version, model)
  const known = seen.find(holds)
  if (known) return known
  // Every version matters: no $top, every page.
  for await (const page of listVersions(ws, modelName, metric, {})) {
    const found = page.find(holds)
    if (found) return found
  }
  return undefined
}

export interface Registration {
  modelUri: string
  modelType: string
  jobName: string
  description: string
  tags?: Record<string, string>
  properties: Record<string, string>
  /** MLflow flavors from the MLmodel file, as FlavorData: name → { data: string map } */
  flavors?: Record<string, { data: Record<string, string> }>
}

export type RegisterOutcome =
  | { kind: 'registered'; version: VersionInfo }
  /** The version number was taken (by a rival run, or already by us) */
  | { kind: 'taken' }

/**
 * PUT the version. Versions are immutable, so a version number that another writer took
 * first fails (400 "Asset paths cannot be updated." or 409) instead of being overwritten.
 */
export async function registerVersion(
  ws: Workspace,
  modelName: string,
  version: string,
  registration: Registration,
  metric: string,
  model: RunModel
): Promise<RegisterOutcome> {
  try {
    const created = await ws.arm.modelVersions.createOrUpdate(
      ws.ref.resourceGroup,
      ws.ref.workspaceName,
      modelName,
      version,
      {
        properties: {
          ...registration,
          properties: {
            ...registration.properties,
            [GATE_PROPERTIES.runId]: model.runId,
            [GATE_PROPERTIES.artifactPath]: model.artifactPath
          },
          isArchived: false
        }
      }
    )
    const info = toVersionInfo(created, metric)
    return holdsRunModel(info, model) ? { kind: 'registered', version: info } : { kind: 'taken' }
  } catch (error) {
    const failure = callError(`Register version ${version} of model ${modelName}`, error)
    if (
      failure.status === 409 ||
      (failure.status === 400 && /cannot be updated|already exists|conflict/i.test(failure.message))
    ) {
      return { kind: 'taken' }
    }
    throw failure
  }
}

export async function getVersion(
  ws: Workspace,
  modelName: string,
  version: string,
  metric: string
): Promise<VersionInfo | undefined> {
  try {
    return toVersionInfo(
      await ws.arm.modelVersions.get(
        ws.ref.resourceGroup,
        ws.ref.workspaceName,
        modelName,
        version
      ),
      metric
    )
  } catch (error) {
    const failure = callError(`Get version ${version} of model ${modelName}`, error)
    if (failure.status === 404) return undefined
    throw failure
  }
}
