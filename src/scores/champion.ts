import {
  HISTORY_SIZE,
  registeredBefore,
  type ChampionLookup,
  type ScoredVersion,
  type VersionInfo
} from '../azureml/models.js'
import { getPipelineRun } from '../azureml/runs.js'
import type { Workspace } from '../azureml/workspace.js'
import type { CompareTo } from '../inputs.js'
import { NO_WAIT, readScore, type ScoreSettings } from './candidate.js'
import { describeSource } from './source.js'

/** Versions whose job is read at most, so that a long unscored history stays cheap. */
const MAX_JOBS = 10

/**
 * A version registered by `mlflow.register_model` or by hand has no metric property but names
 * its job: its score is read from that job the way the candidate's is, and it competes as if
 * it recorded it. Versions whose job has no score stay skipped.
 */
export async function withJobScores(
  ws: Workspace,
  lookup: ChampionLookup,
  settings: ScoreSettings & { compareTo: CompareTo; higherIsBetter: boolean }
): Promise<ChampionLookup> {
  const unscored = lookup.skipped
    .filter(version => version.rawValue === undefined && version.jobName)
    .slice(0, MAX_JOBS)
  if (unscored.length === 0) return lookup
  const scored = (
    await Promise.all(unscored.map(version => scoreFromJob(ws, version, settings)))
  ).filter((version): version is ScoredVersion => version !== undefined)
  if (scored.length === 0) return lookup
  const newestFirst = (a: VersionInfo, b: VersionInfo) =>
    registeredBefore(a, b) ? 1 : registeredBefore(b, a) ? -1 : 0
  const contenders = [...(lookup.champion ? [lookup.champion] : []), ...scored].sort(newestFirst)
  return {
    champion:
      settings.compareTo.kind === 'best'
        ? best(contenders, settings.higherIsBetter)
        : contenders[0],
    history: [...lookup.history, ...scored].sort(newestFirst).slice(0, HISTORY_SIZE),
    skipped: lookup.skipped.filter(version => !scored.some(s => s.version === version.version)),
    listed: lookup.listed
  }
}

async function scoreFromJob(
  ws: Workspace,
  version: VersionInfo,
  settings: ScoreSettings
): Promise<ScoredVersion | undefined> {
  try {
    const job = await getPipelineRun(ws, version.jobName as string)
    // Only the score matters here: never wait for late metrics of an old job.
    const score = await readScore(ws, job, settings, () => undefined, NO_WAIT)
    return {
      ...version,
      value: score.value,
      rawValue: score.found.text,
      note: `score read from job ${version.jobName} (${describeSource(score.found.source.kind)} of run ${score.found.run.id})`
    }
  } catch {
    return undefined
  }
}

/** Newest first in, so that on a tie the newer version stays. */
function best(versions: ScoredVersion[], higherIsBetter: boolean): ScoredVersion | undefined {
  let champion: ScoredVersion | undefined
  for (const version of versions) {
    const gain = champion
      ? version.value.minus(champion.value).times(higherIsBetter ? 1 : -1)
      : undefined
    if (!champion || (gain && gain.gt(0))) champion = version
  }
  return champion
}
