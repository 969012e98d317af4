import { siblingPath } from '../../src/azureml/artifacts.js'
import Big from 'big.js'
import {
  championBefore,
  holdsRunModel,
  type ChampionLookup,
  type ScoredVersion,
  type VersionInfo
} from '../../src/azureml/models.js'

describe('siblingPath: where an interrupted upload moves to', () => {
  test.each([
    ['model.pkl', 'file', 1, 'model.1.pkl'],
    ['model.pkl', 'file', 2, 'model.2.pkl'],
    ['out/model.tar.gz', 'file', 1, 'out/model.tar.1.gz'],
    ['model', 'file', 1, 'model.1'],
    ['.hidden', 'file', 1, '.hidden.1'],
    ['model', 'folder', 1, 'model.1'],
    ['models/v1.0', 'folder', 3, 'models/v1.0.3'],
    ['model.pkl', 'file', 0, 'model.pkl']
  ] as const)('%s (%s) #%d → %s', (path, kind, n, expected) => {
    expect(siblingPath(path, n, kind)).toBe(expected)
  })
})

describe('holdsRunModel: is this version our run model?', () => {
  const ours = {
    runId: 'run-1',
    artifactPath: 'model.1.pkl',
    modelUri: 'azureml://jobs/run-1/outputs/artifacts/paths/model.1.pkl'
  }
  const version = (extra: Partial<VersionInfo>): VersionInfo => ({
    version: '1',
    id: 'v1',
    ...extra
  })

  test('by the gate properties, whatever the service did to modelUri and jobName', () => {
    const rewritten =
      'azureml://subscriptions/s/resourceGroups/g/workspaces/w/datastores/workspaceartifactstore/paths/ExperimentRun/dcid.run-1/model.1.pkl'
    expect(
      holdsRunModel(
        version({ gateRunId: 'run-1', gateArtifactPath: 'model.1.pkl', modelUri: rewritten }),
        ours
      )
    ).toBe(true)
    expect(
      holdsRunModel(version({ jobName: 'run-1', gateArtifactPath: 'model.1.pkl' }), ours)
    ).toBe(true)
  })

  test('another run, or another path of the same run, is not ours', () => {
    expect(
      holdsRunModel(
        version({ gateRunId: 'run-2', gateArtifactPath: 'model.1.pkl', jobName: 'run-1' }),
        ours
      )
    ).toBe(false)
    expect(
      holdsRunModel(
        version({ gateRunId: 'run-1', gateArtifactPath: 'model.pkl', modelUri: ours.modelUri }),
        ours
      )
    ).toBe(false)
  })

  test('a version from before the gate properties: jobName and the URI as sent', () => {
    expect(holdsRunModel(version({ jobName: 'run-1', modelUri: `${ours.modelUri}/` }), ours)).toBe(
      true
    )
    expect(
      holdsRunModel(
        version({
          jobName: 'run-1',
          modelUri: 'azureml://jobs/run-1/outputs/artifacts/paths/other'
        }),
        ours
      )
    ).toBe(false)
  })
})

describe('championBefore: the champion a re-run reports, from the versions already listed', () => {
  const scored = (version: string, createdAt: string): ScoredVersion => ({
    version,
    id: `v${version}`,
    createdAt,
    value: new Big('0.9'),
    rawValue: '0.9'
  })
  const v1 = scored('1', '2026-01-01T00:00:00.000Z')
  const v2 = scored('2', '2026-01-02T00:00:00.000Z')
  const v3 = scored('3', '2026-01-03T00:00:00.000Z')
  const lookup = (versions: ScoredVersion[]): ChampionLookup => ({
    champion: versions[0],
    history: versions,
    skipped: [],
    listed: versions
  })
  const latest = { kind: 'latest' } as const

  test('the newest scored version registered before the one that holds the model', () => {
    expect(championBefore(lookup([v3, v2, v1]), v2, latest)).toEqual({ champion: v1 })
  })

  test('none before it: it was the first', () => {
    expect(championBefore(lookup([v1]), v1, latest)).toEqual({ champion: undefined })
  })

  test('cannot tell: a full page (more may follow), another compare-to, or the version unlisted', () => {
    const many = Array.from({ length: 20 }, (_, i) =>
      scored(String(20 - i), `2026-01-${String(20 - i).padStart(2, '0')}T00:00:00.000Z`)
    )
    expect(championBefore(lookup(many), many[19], latest)).toBeUndefined()
    expect(championBefore(lookup([v2, v1]), v2, { kind: 'best' })).toBeUndefined()
    expect(championBefore(lookup([v2, v1]), v3, latest)).toBeUndefined()
    const jobScored = { ...v1, note: 'score read from job j' }
    expect(championBefore(lookup([v2, jobScored]), v2, latest)).toBeUndefined()
  })
})
