import { siblingPath } from '../../src/azureml/artifacts.js'
import { holdsRunModel, type VersionInfo } from '../../src/azureml/models.js'

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
