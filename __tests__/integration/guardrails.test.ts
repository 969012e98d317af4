import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { TestWorkspace } from './workspace.js'

let ws: TestWorkspace
beforeAll(async () => {
  ws = await TestWorkspace.start()
})
afterAll(async () => {
  await ws?.stop()
})

const GUARDRAILS = `
# must not regress
latency_ms <= champion * 1.10
recall >= champion - 0.02
f1 >= 0.80
`

describe('guardrails against the workspace emulator', () => {
  test('a better but slower model is refused with guardrail-failed', async () => {
    const model = ws.unique('slower')
    ws.seedVersion(model, '1', {
      accuracy: '0.95',
      latency_ms: '100',
      recall: '0.90',
      f1: '0.85'
    })
    const run = ws.addRun({
      tags: { best_model: 'SVC', accuracy: '0.97', latency_ms: '130', recall: '0.91', f1: '0.86' }
    })
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gate-guardrails-')), 'decision.json')
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('slow'),
        guardrails: GUARDRAILS,
        'decision-file': file
      })
    )
    expect(r.error).toBeUndefined()
    expect(r.exitCode).toBe(0)
    expect(r.outputs).toMatchObject({
      registered: 'false',
      reason: 'guardrail-failed',
      'champion-version': '1',
      'metric-value': '0.97',
      'model-version': ''
    })
    expect(ws.versions(model)).toHaveLength(1)
    const guardrails = JSON.parse(r.outputs.guardrails)
    expect(guardrails).toEqual([
      {
        name: 'latency_ms',
        op: '<=',
        bound: 'champion * 1.10',
        limit: '110',
        candidate: '130',
        champion: '100',
        passed: false
      },
      {
        name: 'recall',
        op: '>=',
        bound: 'champion - 0.02',
        limit: '0.88',
        candidate: '0.91',
        champion: '0.90',
        passed: true
      },
      {
        name: 'f1',
        op: '>=',
        bound: '0.80',
        limit: '0.8',
        candidate: '0.86',
        champion: '0.85',
        passed: true
      }
    ])
    const result = JSON.parse(r.outputs.result)
    expect(result.guardrails).toEqual(guardrails)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(result)
    expect(result.why).toBe(
      'Not registered: guardrail latency_ms 130 is not <= 110 (champion * 1.10), although 0.97 beats champion v1 0.95 by 0.02.'
    )
    // the summary: one row per metric, the score first, with a mark each
    expect(r.summary).toContain('| Metric | Candidate | Champion v1 | Bound | |')
    expect(r.summary).toContain(
      '| **accuracy** (higher is better) | **0.97** | 0.95 | \\> 0.95 | ✅ |'
    )
    expect(r.summary).toContain('| latency_ms | 130 | 100 | \\<= 110 (champion * 1.10) | ❌ |')
    expect(r.summary).toContain('| recall | 0.91 | 0.90 | \\>= 0.88 (champion - 0.02) | ✅ |')
    expect(r.summary).toContain('| f1 | 0.86 | 0.85 | \\>= 0.80 | ✅ |')
    expect(r.summary).toContain('guardrail latency_ms 130 is not')
  })

  test('a model that passes every guardrail registers with every metric recorded, and the next run compares against them', async () => {
    const model = ws.unique('guarded')
    ws.seedVersion(model, '1', { accuracy: '0.95', latency_ms: '100', recall: '0.90' })
    const run = ws.addRun({
      tags: { best_model: 'RF', accuracy: '0.96', latency_ms: '108', recall: '0.88', f1: '0.80' }
    })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('rf'),
        guardrails: GUARDRAILS
      })
    )
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({ registered: 'true', reason: 'better', 'model-version': '2' })
    expect(JSON.parse(r.outputs.guardrails).map((g: { passed: boolean }) => g.passed)).toEqual([
      true,
      true,
      true
    ])
    const v2 = ws.versions(model).find(v => v.version === '2')
    expect(v2?.properties).toMatchObject({
      accuracy: '0.96',
      latency_ms: '108',
      recall: '0.88',
      f1: '0.80',
      model_type: 'RF'
    })
    expect(v2?.tags).toMatchObject({
      accuracy: '0.96',
      latency_ms: '108',
      recall: '0.88',
      f1: '0.80',
      gate_reason: 'better'
    })

    // A re-run of the same run reports the same guardrails against the champion of then (v1).
    const again = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('rf'),
        guardrails: GUARDRAILS
      })
    )
    expect(again.outputs).toMatchObject({ reason: 'already-registered', 'model-version': '2' })
    expect(JSON.parse(again.outputs.guardrails)).toEqual(JSON.parse(r.outputs.guardrails))

    // 118 is more than v1's 100 * 1.10 but within v2's 108 * 1.10 = 118.8: v2's values count.
    const next = ws.addRun({
      tags: { best_model: 'RF', accuracy: '0.97', latency_ms: '118', recall: '0.87', f1: '0.81' }
    })
    const r2 = await ws.gate(
      ws.inputs({
        'run-id': next,
        'model-name': model,
        'model-path': ws.model('rf2'),
        guardrails: GUARDRAILS
      })
    )
    expect(r2.outputs).toMatchObject({
      registered: 'true',
      reason: 'better',
      'champion-version': '2',
      'model-version': '3'
    })
    expect(JSON.parse(r2.outputs.guardrails)[0]).toMatchObject({
      name: 'latency_ms',
      limit: '118.8',
      champion: '108',
      passed: true
    })
  })

  test('guardrail metrics come from the training step that holds the score', async () => {
    const model = ws.unique('step')
    ws.seedVersion(model, '1', { accuracy: '0.9', latency_ms: '100' })
    const run = ws.addRun({
      tags: { latency_ms: '1' }, // the pipeline run has no score: its tags are not the source
      children: [
        { displayName: 'prep' },
        { displayName: 'train', tags: { best_model: 'GBM', accuracy: '0.95', latency_ms: '120' } }
      ]
    })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        guardrails: 'latency_ms <= champion'
      })
    )
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({
      reason: 'guardrail-failed',
      'tags-source': `${run}_step1`
    })
    expect(JSON.parse(r.outputs.guardrails)[0]).toMatchObject({ candidate: '120', passed: false })
  })

  test('a champion without the metric: the relative guardrail passes, with a warning', async () => {
    const model = ws.unique('nolatency')
    ws.seedVersion(model, '1', { accuracy: '0.9' })
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.95', latency_ms: '500' } })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        guardrails: 'latency_ms <= champion * 1.10'
      })
    )
    expect(r.outputs).toMatchObject({ registered: 'true', reason: 'better', 'model-version': '2' })
    expect(r.stdout).toContain(
      "::warning::Guardrail 'latency_ms <= champion * 1.10' passes without a comparison: champion v1 has no 'latency_ms' property."
    )
    expect(ws.versions(model).find(v => v.version === '2')?.properties?.latency_ms).toBe('500')
  })

  test('force registers despite a failing guardrail, and says so', async () => {
    const model = ws.unique('forced')
    ws.seedVersion(model, '1', { accuracy: '0.95', latency_ms: '100' })
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.97', latency_ms: '300' } })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        guardrails: 'latency_ms <= champion * 1.10',
        force: 'true'
      })
    )
    expect(r.outputs).toMatchObject({ registered: 'true', reason: 'forced', 'model-version': '2' })
    expect(JSON.parse(r.outputs.result).why).toContain(
      'It overrides the failing guardrails: latency_ms 300 is not <= 110 (champion * 1.10).'
    )
    expect(ws.versions(model).find(v => v.version === '2')?.tags?.latency_ms).toBe('300')
  })

  test('a guardrail metric missing on the candidate fails the step, naming it, before any write', async () => {
    const model = ws.unique('missing')
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.95', latency_ms: '90' } })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        guardrails: 'latency_ms <= 100\nrecall >= 0.8'
      })
    )
    expect(r.exitCode).toBe(1)
    expect(r.error).toBe(
      `Guardrail metric 'recall' not found in the tags of run ${run}; record it in the same run as the score, or remove its guardrail.`
    )
    expect(ws.versions(model)).toHaveLength(0)
    expect(ws.emu.state.listArtifacts(run)).toHaveLength(0)
  })

  test('without guardrails the output is an empty list', async () => {
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.95' } })
    const r = await ws.gate(
      ws.inputs({ 'run-id': run, 'model-name': ws.unique('plain'), 'model-path': ws.model('m') })
    )
    expect(r.outputs).toMatchObject({ registered: 'true', guardrails: '[]' })
    expect(JSON.parse(r.outputs.result).guardrails).toEqual([])
    expect(r.summary).not.toContain('| Metric |')
  })
})
