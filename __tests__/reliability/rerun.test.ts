// Re-runs and races: the same step run again, a step cut off half-way, two pipelines finishing
// at once. Nothing may be written twice, lost or overwritten.
import { runAction } from '../../scripts/action-runner.js'
import { OUTPUT_NAMES } from '../integration/workspace.js'
import { Reliability, writesIn, type GateRun } from './harness.js'

let rel: Reliability
beforeAll(async () => {
  rel = await Reliability.start()
})
afterEach(() => {
  rel.emu.faults.clear()
})
afterAll(async () => {
  await rel?.finish()
})

/** Outputs that must not change when the same step runs again: all but the reason. */
const STABLE_OUTPUTS = OUTPUT_NAMES.filter(name => name !== 'reason' && name !== 'result')

function stable(outputs: Record<string, string>) {
  return Object.fromEntries(STABLE_OUTPUTS.map(name => [name, outputs[name]]))
}

const BYTE_WRITES = /^(blob\.(put|block|blocklist)|arm\.model\.version\.put)$/

describe('idempotent re-runs', () => {
  test('a re-run after success reports the same outputs and writes nothing new', async () => {
    const { ws } = rel
    const model = ws.unique('rerun')
    ws.seedVersion(model, '1', { accuracy: '0.80' })
    const scenarios = [
      // registered as better than v1
      {
        tags: { accuracy: '0.90', best_model: 'RF' },
        path: ws.model('rf bytes'),
        reason: 'better'
      },
      // a folder model, registered as better than the one above
      {
        tags: { accuracy: '0.95', best_model: 'MLP' },
        path: ws.model({ MLmodel: 'flavors: {}', 'model/weights.bin': 'w'.repeat(5000) }),
        reason: 'better'
      },
      // not better: the re-run decides the same way and still writes nothing
      {
        tags: { accuracy: '0.70', best_model: 'LR' },
        path: ws.model('lr bytes'),
        reason: 'not-better'
      }
    ]
    for (const scenario of scenarios) {
      const inputs = ws.inputs({
        'run-id': ws.addRun({ tags: scenario.tags }),
        'model-name': model,
        'model-path': scenario.path
      })
      const first = await rel.gate(inputs)
      expect(first.error).toBeUndefined()
      expect(first.outputs.reason).toBe(scenario.reason)
      rel.snapshotVersions(model)
      const versions = JSON.stringify(ws.versions(model))
      const artifacts = JSON.stringify(ws.emu.state.listArtifacts(inputs['run-id']!))
      const mark = ws.emu.requestLog.length

      const again = await rel.gate(inputs)
      expect(again.error).toBeUndefined()
      expect(stable(again.outputs)).toEqual(stable(first.outputs))
      expect(again.outputs.reason).toBe(
        first.outputs.registered === 'true' ? 'already-registered' : first.outputs.reason
      )
      const written = ws.emu.requestLog.slice(mark)
      expect(written.filter(e => BYTE_WRITES.test(e.route))).toEqual([])
      // The artifacts call is made, and refused as a conflict: run artifacts are immutable.
      expect(writesIn(written).every(e => e.route === 'history.artifacts.metadata')).toBe(true)
      expect(JSON.stringify(ws.versions(model))).toBe(versions)
      expect(JSON.stringify(ws.emu.state.listArtifacts(inputs['run-id']!))).toBe(artifacts)
    }
    expect(ws.versions(model).map(v => v.version)).toEqual(['1', '2', '3'])
  })

  test('a registration that failed after the upload completes on re-run, reusing the upload', async () => {
    const { ws } = rel
    const model = ws.unique('partial')
    const inputs = ws.inputs({
      'run-id': ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } }),
      'model-name': model,
      'model-path': ws.model('partial bytes')
    })
    // Throttled on every attempt: the step gives up after its bounded retries.
    rel.emu.faults.add({
      route: 'arm.model.version.put',
      kind: 'status',
      status: 429,
      retryAfterSeconds: 0,
      times: 50
    })
    const failed = await rel.gate(inputs)
    expect(failed.exitCode).toBe(1)
    expect(failed.error).toMatch(
      new RegExp(`Register version 1 of model ${model} failed with HTTP 429`)
    )
    expect(ws.versions(model)).toHaveLength(0)
    expect(ws.emu.state.listArtifacts(inputs['run-id']!)).toHaveLength(1)
    rel.emu.faults.clear()

    const mark = ws.emu.requestLog.length
    const rerun = await rel.gate(inputs)
    expect(rerun.error).toBeUndefined()
    expect(rerun.outputs).toMatchObject({
      registered: 'true',
      reason: 'first',
      'model-version': '1'
    })
    const routes = ws.emu.requestLog.slice(mark).map(e => e.route)
    expect(routes).toContain('history.artifacts.contentinfo')
    expect(routes.filter(r => r.startsWith('blob.') && r !== 'blob.read')).toEqual([])
    expect(ws.versions(model)).toHaveLength(1)
  })

  test('a step cancelled while its registration is in flight: the re-run ends with one version', async () => {
    const { ws } = rel
    const model = ws.unique('cancelled')
    const inputs = ws.inputs({
      'run-id': ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } }),
      'model-name': model,
      'model-path': ws.model('cancelled bytes')
    })
    // The PUT is held until after the runner has killed the step. Whether Azure then applies
    // it or not, the re-run must end with exactly one version holding the run's model.
    rel.emu.faults.add({ route: 'arm.model.version.put', kind: 'delay', delayMs: 3000, times: 1 })
    const before = rel.faultCount()
    // Killed once the PUT is held, however long a busy machine took to get there.
    let heldAt = 0
    const killed = await runAction(
      inputs,
      { NODE_EXTRA_CA_CERTS: ws.emu.caCertPath },
      {
        cancelWhen: () => {
          if (rel.faultCount() === before) return false
          heldAt ||= Date.now()
          return true
        }
      }
    )
    expect(killed.exitCode).not.toBe(0)
    expect(killed.outputs).toEqual({})

    const rerun = await rel.gate(inputs)
    expect(rerun.error).toBeUndefined()
    expect(rerun.outputs).toMatchObject({ registered: 'true', 'model-version': '1' })
    expect(['first', 'already-registered']).toContain(rerun.outputs.reason)
    // Past the held PUT (the emulator's timer is in this process: it fires first).
    await new Promise(resolve => setTimeout(resolve, Math.max(0, heldAt + 4000 - Date.now())))
    expect(ws.versions(model)).toHaveLength(1)
    rel.tally.survivedByRerun += rel.faultCount() - before - rerun.faults
  })

  test('an upload cut off half-way: the re-run completes by itself at the next free sibling path', async () => {
    const { ws } = rel
    const model = ws.unique('interrupted')
    const runId = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
    const inputs = ws.inputs({
      'run-id': runId,
      'model-name': model,
      'model-path': ws.model('interrupted bytes')
    })
    // The artifact is created, then the bytes never arrive: the step is killed mid-upload.
    rel.emu.faults.add({ route: 'blob.put', kind: 'delay', delayMs: 5000, times: 1 })
    const before = rel.faultCount()
    // Killed once the bytes are held, however long a busy machine took to get there.
    const killed = await runAction(
      inputs,
      { NODE_EXTRA_CA_CERTS: ws.emu.caCertPath },
      { cancelWhen: () => rel.faultCount() > before }
    )
    expect(killed.exitCode).not.toBe(0)
    expect(ws.emu.state.listArtifacts(runId)).toHaveLength(1)

    // No workflow edit: model.pkl stays empty for good, the model goes to model.1.pkl.
    const rerun = await rel.gate(inputs)
    expect(rerun.error).toBeUndefined()
    expect(rerun.stdout).toMatch(/model\.pkl of run .* has no content .* trying model\.1\.pkl/)
    expect(rerun.outputs).toMatchObject({
      registered: 'true',
      reason: 'first',
      'artifact-uri': `azureml://jobs/${runId}/outputs/artifacts/paths/model.1.pkl`
    })
    expect((await ws.emu.readArtifact(runId, 'model.1.pkl')).toString()).toBe('interrupted bytes')

    // The next re-run finds the model where it landed, and the version that holds it.
    const mark = ws.emu.requestLog.length
    const again = await rel.gate(inputs)
    expect(again.error).toBeUndefined()
    expect(again.outputs).toMatchObject({
      registered: 'true',
      reason: 'already-registered',
      'model-version': rerun.outputs['model-version'],
      'artifact-uri': rerun.outputs['artifact-uri']
    })
    expect(ws.emu.requestLog.slice(mark).filter(e => BYTE_WRITES.test(e.route))).toEqual([])
    expect(ws.versions(model)).toHaveLength(1)
    // A dry run only looks, and finds it there too.
    const dry = await rel.gate({ ...inputs, 'dry-run': 'true' })
    expect(dry.outputs).toMatchObject({
      reason: 'already-registered',
      'model-version': rerun.outputs['model-version']
    })
    rel.tally.survivedByRerun += rel.faultCount() - before - rerun.faults - again.faults
  })

  test('an artifact with other bytes at the same path is refused, naming the fix', async () => {
    const { ws } = rel
    const runId = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
    const model = ws.unique('clash')
    const first = await rel.gate(
      ws.inputs({ 'run-id': runId, 'model-name': model, 'model-path': ws.model('one') })
    )
    expect(first.outputs.registered).toBe('true')
    const mark = ws.emu.requestLog.length
    const other = await rel.gate(
      ws.inputs({ 'run-id': runId, 'model-name': model, 'model-path': ws.model('two') })
    )
    expect(other.exitCode).toBe(1)
    expect(other.error).toMatch(
      new RegExp(
        `Artifact model.pkl already exists in run ${runId} with different content; set artifact-path`
      )
    )
    expect(ws.emu.requestLog.slice(mark).filter(e => BYTE_WRITES.test(e.route))).toEqual([])
    expect((await ws.emu.readArtifact(runId, 'model.pkl')).toString()).toBe('one')
    expect(ws.versions(model)).toHaveLength(1)
  })
})

describe('races', () => {
  /**
   * Two action processes at once on one model. The first version PUT to arrive is held for a
   * moment, so both have read the same nextVersion by the time either registers: one of them
   * is refused and must re-decide against the other's version.
   */
  async function race(
    model: string,
    runs: { accuracy: string; force?: boolean }[],
    staggerMs = 400
  ): Promise<GateRun[]> {
    const { ws } = rel
    rel.snapshotVersions(model)
    rel.emu.faults.add([
      { route: 'arm.model.version.put', kind: 'delay', delayMs: 2000, times: 1 },
      // The refused run reads the version back: that read is retried like any other.
      { route: 'arm.model.version.get', kind: 'status', status: 503, times: 1 }
    ])
    const mark = ws.emu.requestLog.length
    const results = await rel.gateAll(
      runs.map((run, i) => ({
        startAfterMs: i * staggerMs,
        inputs: ws.inputs({
          'run-id': ws.addRun({ tags: { accuracy: run.accuracy, best_model: `M${i}` } }),
          'model-name': model,
          'model-path': ws.model(`model ${model} ${i}`),
          force: run.force ? 'true' : undefined
        })
      }))
    )
    for (const r of results) expect(r.error).toBeUndefined()
    // The race really happened: a version PUT was refused because the number was taken.
    const puts = ws.emu.requestLog.slice(mark).filter(e => e.route === 'arm.model.version.put')
    expect(puts.map(e => e.status)).toContain(400)
    expect(results.some(r => /was just registered by/.test(r.stdout))).toBe(true)
    expect(rel.emu.faults.pending()).toEqual([])
    return results
  }

  /** Every outcome agrees with the registry as it ended. */
  function expectConsistent(model: string, results: GateRun[]) {
    const versions = rel.ws.versions(model)
    const score = (v: { properties?: Record<string, string> }) => Number(v.properties?.accuracy)
    // At most one version per run, and each registered run names its own.
    const runs = versions.map(v => v.jobName)
    expect(new Set(runs).size).toBe(runs.length)
    for (const r of results) {
      const mine = versions.filter(v => v.jobName === r.outputs['run-id'])
      if (r.outputs.registered === 'true') {
        expect(mine.map(v => v.version)).toEqual([r.outputs['model-version']])
        expect(['first', 'better', 'forced']).toContain(r.outputs.reason)
      } else {
        expect(mine).toEqual([])
        expect(r.outputs.reason).toBe('not-better')
        // Lost to a champion that is really there and really at least as good.
        const champion = versions.find(v => v.version === r.outputs['champion-version'])
        expect(champion).toBeDefined()
        expect(score(champion!)).toBeGreaterThanOrEqual(Number(r.outputs['metric-value']))
      }
      if (r.outputs.reason === 'better') {
        const champion = versions.find(v => v.version === r.outputs['champion-version'])
        expect(Number(r.outputs['metric-value'])).toBeGreaterThan(score(champion!))
      }
    }
    // compare-to latest: each version registered by the gate beat the one before it, so the
    // newest version is the best, and no candidate that was turned away beats it.
    const byNumber = [...versions].sort((a, b) => Number(a.version) - Number(b.version))
    const gated = byNumber.filter(v => v.tags?.gate_reason === 'better')
    for (let i = 1; i < gated.length; i++)
      expect(score(gated[i])).toBeGreaterThan(score(gated[i - 1]))
    const champion = byNumber[byNumber.length - 1]
    for (const r of results)
      if (r.outputs.registered !== 'true')
        expect(score(champion)).toBeGreaterThanOrEqual(Number(r.outputs['metric-value']))
  }

  test('two pipelines finish at once: each registers exactly once, no version overwritten', async () => {
    const model = rel.ws.unique('race-forced')
    rel.ws.seedVersion(model, '1', { accuracy: '0.5' })
    const results = await race(model, [
      { accuracy: '0.70', force: true },
      { accuracy: '0.60', force: true }
    ])
    const versions = rel.ws.versions(model)
    expect(versions.map(v => v.version).sort()).toEqual(['1', '2', '3'])
    for (const r of results) {
      expect(r.outputs).toMatchObject({ registered: 'true', reason: 'forced' })
      expect(versions.filter(v => v.jobName === r.outputs['run-id'])).toHaveLength(1)
    }
    expectConsistent(model, results)
  })

  /** The refused run compared itself with the winner's version, and decided by score. */
  function expectLoserRedecided(results: GateRun[]) {
    const loser = results.find(r => /was just registered by/.test(r.stdout))!
    const winner = results.find(r => r !== loser)!
    expect(winner.outputs.registered).toBe('true')
    expect(loser.outputs['champion-version']).toBe(winner.outputs['model-version'])
    const better = Number(loser.outputs['metric-value']) > Number(winner.outputs['metric-value'])
    expect(loser.outputs.reason).toBe(better ? 'better' : 'not-better')
    return better
  }

  test('the run that loses the race re-decides against the winner', async () => {
    // The first to start is the first to PUT, so it is the one held back and refused: in the
    // first race it is the better model, in the second the worse (either way the checks hold).
    const outcomes: boolean[] = []
    for (const scores of [
      ['0.95', '0.90'],
      ['0.85', '0.90']
    ]) {
      const model = rel.ws.unique('race')
      rel.ws.seedVersion(model, '1', { accuracy: '0.80' })
      const results = await race(
        model,
        scores.map(accuracy => ({ accuracy }))
      )
      expectConsistent(model, results)
      outcomes.push(expectLoserRedecided(results))
      expect(rel.ws.versions(model)).toHaveLength(outcomes[outcomes.length - 1] ? 3 : 2)
    }
  })
})

test('no write was lost, duplicated or overwritten', async () => {
  const { lost, duplicated } = await rel.audit()
  expect(lost).toEqual([])
  expect(duplicated).toEqual([])
  expect(rel.unresolvedFaults()).toBe(0)
})
