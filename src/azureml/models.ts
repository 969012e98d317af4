import type { ModelVersion } from '@azure/arm-machinelearning'
import type { Big } from 'big.js'
import { parseDecimal } from '../decision.js'
import type { CompareTo } from '../inputs.js'
import { callError } from './http.js'
import type { Workspace } from './workspace.js'

/** A registered version as the gate sees it: our own small type, not the SDK's. */
export interface VersionInfo {
  version: string
  id: string
  jobName?: string
  modelUri?: string
  createdAt?: string
  /** The metric property, parsed; undefined when absent or not a number */
  value?: Big
  rawValue?: string
  /** Every property (null values dropped): the gate's provenance among them */
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
  const newest = listVersions(ws, modelName, metric, {}, before)
  if (compareTo.kind === 'tag') {
    const tagged = listVersions(
      ws,
      modelName,
      metric,
      { tags: `${compareTo.key}=${compareTo.value}` },
      before
    )
    const [history, withTag] = await Promise.all([
      firstScored(newest, HISTORY_SIZE),
      firstScored(tagged, 1)
    ])
    return { champion: withTag.scored[0], history: history.scored, skipped: withTag.skipped }
  }
  if (compareTo.kind === 'latest') {
    const { scored, skipped } = await firstScored(newest, HISTORY_SIZE, 1)
    return { champion: scored[0], history: scored, skipped }
  }
  const all = await firstScored(newest, Infinity)
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
  return { champion: best, history: all.scored.slice(0, HISTORY_SIZE), skipped: all.skipped }
}

/**
 * Collects up to `wanted` scored versions, reading further pages only while fewer than
 * `enough` have been found (the caller's page already holds the rest).
 */
async function firstScored(
  pages: AsyncIterable<VersionInfo[]>,
  wanted: number,
  enough = wanted
): Promise<{ scored: ScoredVersion[]; skipped: VersionInfo[] }> {
  const scored: ScoredVersion[] = []
  const skipped: VersionInfo[] = []
  for await (const page of pages) {
    for (const version of page) {
      if (version.value) {
        if (scored.length < wanted) scored.push(version as ScoredVersion)
      } else {
        skipped.push(version)
      }
    }
    if (scored.length >= enough) break
  }
  return { scored, skipped }
}

async function* listVersions(
  ws: Workspace,
  modelName: string,
  metric: string,
  filter: { tags?: string },
  before?: VersionInfo
): AsyncIterable<VersionInfo[]> {
  const pages = ws.arm.modelVersions
    .list(ws.ref.resourceGroup, ws.ref.workspaceName, modelName, {
      orderBy: 'createdtime desc',
      top: HISTORY_SIZE,
      ...filter
    })
    .byPage()
  try {
    for await (const page of pages) {
      const versions = page.map(version => toVersionInfo(version, metric))
      yield before ? versions.filter(version => registeredBefore(version, before)) : versions
    }
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
  const rawValue = version.properties?.properties?.[metric] ?? undefined
  return {
    version: version.name ?? '',
    id: version.id ?? '',
    jobName: version.properties?.jobName,
    modelUri: version.properties?.modelUri,
    createdAt: isoDate(version.systemData?.createdAt),
    value: parseDecimal(rawValue ?? undefined),
    rawValue: rawValue ?? undefined,
    properties: Object.fromEntries(
      Object.entries(version.properties?.properties ?? {}).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string'
      )
    )
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

/** A version of this model that already holds this run's artifact, newest first. */
export async function findVersionHolding(
  ws: Workspace,
  modelName: string,
  metric: string,
  jobName: string,
  modelUri: string,
  seen: VersionInfo[]
): Promise<VersionInfo | undefined> {
  const holds = (version: VersionInfo) =>
    version.jobName === jobName && sameUri(version.modelUri, modelUri)
  const known = seen.find(holds)
  if (known) return known
  for await (const page of listVersions(ws, modelName, metric, {})) {
    const found = page.find(holds)
    if (found) return found
  }
  return undefined
}

/** Model URIs of a folder may or may not end in '/'. */
export function sameUri(a: string | undefined, b: string): boolean {
  return (a ?? '').replace(/\/+$/, '') === b.replace(/\/+$/, '')
}

export interface Registration {
  modelUri: string
  modelType: string
  jobName: string
  description: string
  tags: Record<string, string>
  properties: Record<string, string>
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
  metric: string
): Promise<RegisterOutcome> {
  try {
    const created = await ws.arm.modelVersions.createOrUpdate(
      ws.ref.resourceGroup,
      ws.ref.workspaceName,
      modelName,
      version,
      { properties: { ...registration, isArchived: false } }
    )
    const info = toVersionInfo(created, metric)
    if (info.jobName !== registration.jobName || !sameUri(info.modelUri, registration.modelUri)) {
      return { kind: 'taken' }
    }
    return { kind: 'registered', version: info }
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
