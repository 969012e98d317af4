import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { credentialsFor } from '../../scripts/action-runner.js'
import { OUTPUT_NAMES, TestWorkspace } from './workspace.js'

let ws: TestWorkspace
beforeAll(async () => {
  ws = await TestWorkspace.start()
})
afterAll(async () => {
  await ws?.stop()
})

function expectAllOutputs(outputs: Record<string, string>) {
  for (const name of OUTPUT_NAMES) expect(outputs).toHaveProperty(name)
  const result = JSON.parse(outputs.result)
  expect(result.reason).toBe(outputs.reason)
  expect(String(result.registered)).toBe(outputs.registered)
}

describe('the gate against the workspace emulator', () => {
  test('first registration, then a worse model is skipped, then a better one registers', async () => {
    const model = ws.unique('iris')
    const first = ws.addRun({ tags: { best_model: 'RandomForest', accuracy: '0.9667' } })
    const r1 = await ws.gate(
      ws.inputs({
        'run-id': first,
        'model-name': model,
        'model-path': ws.model('rf'),
        'framework-version': '1.5.0',
        tags: 'team=ml'
      })
    )
    expect(r1.error).toBeUndefined()
    expect(r1.exitCode).toBe(0)
    expectAllOutputs(r1.outputs)
    expect(r1.outputs).toMatchObject({
      registered: 'true',
      reason: 'first',
      'model-version': '1',
      'model-uri': `azureml:${model}:1`,
      'metric-value': '0.9667',
      'model-type': 'RandomForest',
      'champion-version': '',
      'tags-source': first,
      'artifact-uri': `azureml://jobs/${first}/outputs/artifacts/paths/model.pkl`
    })
    expect(r1.outputs['model-id']).toMatch(new RegExp(`/models/${model}/versions/1$`))
    const [v1] = ws.versions(model)
    expect(v1).toMatchObject({
      version: '1',
      jobName: first,
      modelUri: `azureml://jobs/${first}/outputs/artifacts/paths/model.pkl`,
      modelType: 'custom_model',
      properties: {
        accuracy: '0.9667',
        model_type: 'RandomForest',
        framework: 'ScikitLearn',
        framework_version: '1.5.0'
      },
      tags: { accuracy: '0.9667', model_type: 'RandomForest', team: 'ml' }
    })
    expect((await ws.emu.readArtifact(first, 'model.pkl')).toString()).toBe('rf')
    expect(r1.summary).toContain(`${model} v1 registered`)

    const worse = ws.addRun({ tags: { best_model: 'LogisticRegression', accuracy: '0.9333' } })
    const r2 = await ws.gate(
      ws.inputs({ 'run-id': worse, 'model-name': model, 'model-path': ws.model('lr') })
    )
    expect(r2.exitCode).toBe(0)
    expect(r2.outputs).toMatchObject({
      registered: 'false',
      reason: 'not-better',
      'champion-version': '1',
      'champion-value': '0.9667',
      'model-version': '',
      'model-uri': ''
    })
    expect(ws.versions(model)).toHaveLength(1)
    // The run keeps its full context: the model is uploaded even when it is not registered.
    expect((await ws.emu.readArtifact(worse, 'model.pkl')).toString()).toBe('lr')

    const better = ws.addRun({ tags: { best_model: 'SVC', accuracy: '0.98' } })
    const r3 = await ws.gate(
      ws.inputs({ 'run-id': better, 'model-name': model, 'model-path': ws.model('svc') })
    )
    expect(r3.outputs).toMatchObject({
      registered: 'true',
      reason: 'better',
      'model-version': '2',
      'champion-version': '1'
    })
    expect(
      ws
        .versions(model)
        .map(v => v.version)
        .sort()
    ).toEqual(['1', '2'])
    expect(r3.summary).toContain('xychart-beta')
  })

  test('decision-file holds the decision record, the same as the result output', async () => {
    const model = ws.unique('record')
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.91' } })
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gate-record-')), 'out', 'decision.json')
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        'decision-file': file
      })
    )
    expect(r.exitCode).toBe(0)
    const record = JSON.parse(readFileSync(file, 'utf8'))
    expect(record).toEqual(JSON.parse(r.outputs.result))
    expect(record).toMatchObject({
      registered: true,
      reason: 'first',
      modelVersion: '1',
      metricValue: '0.91'
    })
  })

  test('after a registration, failing to write the summary or decision-file only warns', async () => {
    const model = ws.unique('report-fails')
    const dir = mkdtempSync(path.join(tmpdir(), 'gate-report-'))
    const notAFolder = path.join(dir, 'file')
    writeFileSync(notAFolder, 'x')
    const r = await ws.gate(
      ws.inputs({
        'run-id': ws.addRun({ tags: { best_model: 'RF', accuracy: '0.91' } }),
        'model-name': model,
        'model-path': ws.model('m'),
        // A file inside a regular file cannot be written.
        'decision-file': path.join(notAFolder, 'decision.json')
      }),
      { GITHUB_STEP_SUMMARY: path.join(dir, 'missing', 'summary.md') }
    )
    expect(r.error).toBeUndefined()
    expect(r.exitCode).toBe(0)
    expectAllOutputs(r.outputs)
    expect(r.outputs).toMatchObject({ registered: 'true', reason: 'first', 'model-version': '1' })
    expect(r.stdout).toMatch(/^::warning::The job summary was not written: .*/m)
    expect(r.stdout).toMatch(/^::warning::decision-file .*decision\.json was not written: .*/m)
    expect(ws.versions(model)).toHaveLength(1)
  })

  test('scores beyond what a double holds register and compare, and the summary says why there is no chart', async () => {
    const model = ws.unique('huge')
    const r1 = await ws.gate(
      ws.inputs({
        'run-id': ws.addRun({ tags: { best_model: 'RF', accuracy: '1e309' } }),
        'model-name': model,
        'model-path': ws.model('a')
      })
    )
    expect(r1.error).toBeUndefined()
    expect(r1.outputs).toMatchObject({ registered: 'true', 'model-version': '1' })
    // The champion 1e309 must not break the runs after it.
    const worse = await ws.gate(
      ws.inputs({
        'run-id': ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' } }),
        'model-name': model,
        'model-path': ws.model('b')
      })
    )
    expect(worse.error).toBeUndefined()
    expect(worse.outputs).toMatchObject({ registered: 'false', reason: 'not-better' })
    const better = await ws.gate(
      ws.inputs({
        'run-id': ws.addRun({ tags: { best_model: 'RF', accuracy: '1e400' } }),
        'model-name': model,
        'model-path': ws.model('c')
      })
    )
    expect(better.error).toBeUndefined()
    expect(better.outputs).toMatchObject({
      registered: 'true',
      reason: 'better',
      'champion-value': '1e309'
    })
    expect(better.summary).toContain('No chart: scores beyond')
  })

  test('a tie is not better', async () => {
    const model = ws.unique('tie')
    ws.seedVersion(model, '1', { accuracy: '0.95' })
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.950' } })
    const r = await ws.gate(
      ws.inputs({ 'run-id': run, 'model-name': model, 'model-path': ws.model('x') })
    )
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({ registered: 'false', reason: 'not-better' })
    expect(ws.versions(model)).toHaveLength(1)
  })

  test('exact decimals: 0.3 beats 0.2 by min-improvement 0.1', async () => {
    const model = ws.unique('exact')
    ws.seedVersion(model, '1', { accuracy: '0.2' })
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.3' } })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('x'),
        'min-improvement': '0.1'
      })
    )
    expect(r.outputs).toMatchObject({ registered: 'true', reason: 'better', 'model-version': '2' })
  })

  test('step fallback: tags only on the training step', async () => {
    const model = ws.unique('step')
    const run = ws.addRun({
      tags: {},
      children: [
        { displayName: 'prep_step' },
        {
          displayName: 'train_step',
          name: 'train_model',
          tags: { best_model: 'SVC', accuracy: '0.98' }
        },
        { displayName: 'eval_step', tags: { best_model: 'SVC', accuracy: '0.5' } }
      ]
    })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        'training-step-name': 'train_step'
      })
    )
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({
      registered: 'true',
      'metric-value': '0.98',
      'model-type': 'SVC',
      'tags-source': `${run}_step1`,
      'run-id': run
    })
    // The model goes to the PARENT run, and the version links to it.
    expect(ws.versions(model)[0].jobName).toBe(run)
    expect((await ws.emu.readArtifact(run, 'model.pkl')).toString()).toBe('m')

    const ambiguous = await ws.gate(
      ws.inputs({ 'run-id': run, 'model-name': ws.unique('step'), 'model-path': ws.model('m') })
    )
    expect(ambiguous.exitCode).toBe(1)
    expect(ambiguous.error).toMatch(/Several steps .* training-step-name/)
  })

  test('step fallback through several pages of children', async () => {
    const children = Array.from({ length: 12 }, (_, i) => ({ displayName: `step_${i}` }))
    children.push({ displayName: 'train', tags: { accuracy: '0.91', best_model: 'GBM' } } as never)
    const run = ws.addRun({ children })
    const r = await ws.gate(
      ws.inputs({ 'run-id': run, 'model-name': ws.unique('paged'), 'model-path': ws.model('m') })
    )
    expect(r.outputs).toMatchObject({
      registered: 'true',
      'metric-value': '0.91',
      'tags-source': `${run}_step12`
    })
  })

  test('missing and non-numeric tags fail before anything is written', async () => {
    const missing = ws.addRun({ tags: { best_model: 'RF' }, children: [{ displayName: 'train' }] })
    const model = ws.unique('missing')
    const r1 = await ws.gate(
      ws.inputs({ 'run-id': missing, 'model-name': model, 'model-path': ws.model('m') })
    )
    expect(r1.exitCode).toBe(1)
    expect(r1.error).toMatch(
      new RegExp(
        `Tag, MLflow metric or property 'accuracy' was not found on pipeline run ${missing}, train \\(${missing}_step0\\)`
      )
    )
    const nan = ws.addRun({ tags: { best_model: 'RF', accuracy: 'high' } })
    const r2 = await ws.gate(
      ws.inputs({ 'run-id': nan, 'model-name': model, 'model-path': ws.model('m') })
    )
    expect(r2.exitCode).toBe(1)
    expect(r2.error).toMatch(/'high', not a finite decimal number/)
    expect(ws.versions(model)).toHaveLength(0)
    expect(ws.emu.state.listArtifacts(missing)).toHaveLength(0)
    expect(ws.emu.state.listArtifacts(nan)).toHaveLength(0)
  })

  test('inherited object members are never read as tags or properties', async () => {
    const model = ws.unique('own-keys')
    // metric 'constructor' on a run without that tag: not found, not Object's constructor.
    const untagged = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
    const r1 = await ws.gate(
      ws.inputs({
        'run-id': untagged,
        'model-name': model,
        'model-path': ws.model('m'),
        metric: 'constructor'
      })
    )
    expect(r1.exitCode).toBe(1)
    expect(r1.error).toMatch(
      new RegExp(
        `^Tag, MLflow metric or property 'constructor' was not found on pipeline run ${untagged}`
      )
    )

    // model-type-tag 'toString' on a run without it: no model type, not a function's source.
    const typed = await ws.gate(
      ws.inputs({
        'run-id': ws.addRun({ tags: { accuracy: '0.9' } }),
        'model-name': model,
        'model-path': ws.model('m'),
        'model-type-tag': 'toString'
      })
    )
    expect(typed.error).toBeUndefined()
    expect(typed.outputs).toMatchObject({ registered: 'true', 'model-type': '' })
    expect(typed.stdout).toMatch(/::warning::Run .* has no 'toString' tag/)
    expect(ws.versions(model)[0].properties).not.toHaveProperty('model_type')

    // A version without the 'valueOf' property is skipped, not read as Object's valueOf.
    const scored = ws.unique('own-keys')
    ws.seedVersion(scored, '1', { valueOf: '0.4' }, { createdAt: '2026-01-01T00:00:00Z' })
    ws.seedVersion(scored, '2', {}, { createdAt: '2026-02-01T00:00:00Z' })
    const r3 = await ws.gate(
      ws.inputs({
        'run-id': ws.addRun({ tags: { valueOf: '0.5', best_model: 'RF' } }),
        'model-name': scored,
        'model-path': ws.model('m'),
        metric: 'valueOf'
      })
    )
    expect(r3.error).toBeUndefined()
    expect(r3.outputs).toMatchObject({
      registered: 'true',
      reason: 'better',
      'champion-version': '1',
      'model-version': '3'
    })
  })

  test('lower is better', async () => {
    const model = ws.unique('rmse')
    ws.seedVersion(model, '1', { rmse: '0.30' })
    const worse = ws.addRun({ tags: { best_model: 'Ridge', rmse: '0.31' } })
    const inputs = { 'model-name': model, metric: 'rmse', 'higher-is-better': 'false' }
    const r1 = await ws.gate(ws.inputs({ ...inputs, 'run-id': worse, 'model-path': ws.model('a') }))
    expect(r1.outputs).toMatchObject({ registered: 'false', reason: 'not-better' })
    const better = ws.addRun({ tags: { best_model: 'Lasso', rmse: '2.5e-1' } })
    const r2 = await ws.gate(
      ws.inputs({ ...inputs, 'run-id': better, 'model-path': ws.model('b') })
    )
    expect(r2.outputs).toMatchObject({ registered: 'true', reason: 'better', 'model-version': '2' })
    expect(ws.versions(model).find(v => v.version === '2')?.properties?.rmse).toBe('2.5e-1')
  })

  test('compare-to latest, best and tag', async () => {
    const model = ws.unique('compare')
    ws.seedVersion(
      model,
      '1',
      { accuracy: '0.99' },
      { tags: { stage: 'production' }, createdAt: '2026-01-01T00:00:00Z' }
    )
    ws.seedVersion(model, '2', { accuracy: '0.90' }, { createdAt: '2026-02-01T00:00:00Z' })
    ws.seedVersion(model, '3', { accuracy: 'n/a' }, { createdAt: '2026-03-01T00:00:00Z' })
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.95' } })
    const common = { 'run-id': run, 'model-name': model, 'dry-run': 'true' }
    const latest = await ws.gate(ws.inputs({ ...common, 'model-path': ws.model('a') }))
    expect(latest.outputs).toMatchObject({
      reason: 'better',
      'champion-version': '2',
      registered: 'false',
      'dry-run': 'true'
    })
    expect(latest.stdout).toMatch(
      new RegExp(
        `::warning::1 version of ${model} is skipped as a champion, having no numeric 'accuracy' property: 3 \\('n/a'\\)\\.`
      )
    )
    const best = await ws.gate(
      ws.inputs({ ...common, 'model-path': ws.model('a'), 'compare-to': 'best' })
    )
    expect(best.outputs).toMatchObject({
      reason: 'not-better',
      'champion-version': '1',
      'champion-value': '0.99'
    })
    const tagged = await ws.gate(
      ws.inputs({ ...common, 'model-path': ws.model('a'), 'compare-to': 'tag:stage=production' })
    )
    expect(tagged.outputs).toMatchObject({ reason: 'not-better', 'champion-version': '1' })
    expect(ws.versions(model)).toHaveLength(3)
  })

  test('compare-to a tag that no version carries fails unless allow-first, before any write', async () => {
    const model = ws.unique('no-tag')
    ws.seedVersion(model, '1', { accuracy: '0.99' }, { createdAt: '2026-01-01T00:00:00Z' })
    ws.seedVersion(model, '2', { accuracy: '0.98' }, { createdAt: '2026-02-01T00:00:00Z' })
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.5' } })
    const inputs = ws.inputs({
      'run-id': run,
      'model-name': model,
      'model-path': ws.model('m'),
      'compare-to': 'tag:stage=production'
    })
    const refused = await ws.gate(inputs)
    expect(refused.exitCode).toBe(1)
    expect(refused.error).toMatch(
      new RegExp(
        `^No champion for ${model}: no version tagged stage=production has a numeric 'accuracy' property, but it has 2 versions \\(newest: 2, 1\\).* set allow-first: true`
      )
    )
    expect(ws.versions(model)).toHaveLength(2)
    expect(ws.emu.state.listArtifacts(run)).toHaveLength(0)
    const allowed = await ws.gate({ ...inputs, 'allow-first': 'true' })
    expect(allowed.error).toBeUndefined()
    expect(allowed.outputs).toMatchObject({
      registered: 'true',
      reason: 'first',
      'model-version': '3'
    })
  })

  test('no version with a numeric metric fails unless allow-first; the skipped versions warn in one line', async () => {
    const model = ws.unique('no-score')
    ws.seedVersion(model, '1', { accuracy: 'n/a' }, { createdAt: '2026-01-01T00:00:00Z' })
    ws.seedVersion(model, '2', {}, { createdAt: '2026-02-01T00:00:00Z' })
    const inputs = ws.inputs({
      'run-id': ws.addRun({ tags: { best_model: 'RF', accuracy: '0.5' } }),
      'model-name': model,
      'model-path': ws.model('m')
    })
    const refused = await ws.gate(inputs)
    expect(refused.exitCode).toBe(1)
    expect(refused.error).toMatch(
      new RegExp(
        `^No champion for ${model}: no version has a numeric 'accuracy' property, but it has 2 versions \\(newest: 2, 1\\)`
      )
    )
    const allowed = await ws.gate({ ...inputs, 'allow-first': 'true' })
    expect(allowed.outputs).toMatchObject({ registered: 'true', reason: 'first' })
    const warnings = allowed.stdout.match(/^::warning::.*skipped as champions.*$/gm) ?? []
    expect(warnings).toEqual([
      `::warning::2 versions of ${model} are skipped as champions, having no numeric 'accuracy' property: 2 (none), 1 ('n/a').`
    ])
  })

  test('a first registration on an empty model, and its re-run, need no allow-first', async () => {
    const model = ws.unique('empty')
    const inputs = ws.inputs({
      'run-id': ws.addRun({ tags: { best_model: 'RF', accuracy: '0.5' } }),
      'model-name': model,
      'model-path': ws.model('m'),
      'compare-to': 'tag:stage=production'
    })
    const first = await ws.gate(inputs)
    expect(first.outputs).toMatchObject({ registered: 'true', reason: 'first' })
    // The only version is this run's own: a re-run is not a first registration over others.
    const again = await ws.gate(inputs)
    expect(again.error).toBeUndefined()
    expect(again.outputs).toMatchObject({ registered: 'true', reason: 'already-registered' })
  })

  test('compare-to a tag value with a comma matches exactly', async () => {
    const model = ws.unique('comma')
    ws.seedVersion(
      model,
      '1',
      { accuracy: '0.95' },
      { tags: { stage: 'prod,eu' }, createdAt: '2026-01-01T00:00:00Z' }
    )
    ws.seedVersion(
      model,
      '2',
      { accuracy: '0.5' },
      { tags: { stage: 'prod', eu: 'x' }, createdAt: '2026-02-01T00:00:00Z' }
    )
    const common = { 'model-name': model, 'dry-run': 'true', 'model-path': ws.model('m') }
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' } })
    const comma = await ws.gate(
      ws.inputs({ ...common, 'run-id': run, 'compare-to': 'tag:stage=prod,eu' })
    )
    expect(comma.error).toBeUndefined()
    expect(comma.outputs).toMatchObject({ reason: 'not-better', 'champion-version': '1' })
    const plain = await ws.gate(
      ws.inputs({ ...common, 'run-id': run, 'compare-to': 'tag:stage=prod' })
    )
    expect(plain.outputs).toMatchObject({ reason: 'better', 'champion-version': '2' })
  })

  test('a folder model keeps its layout and registers with a trailing slash', async () => {
    const model = ws.unique('folder')
    const run = ws.addRun({ tags: { best_model: 'MLP', accuracy: '0.9' } })
    const mlmodel = 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n'
    const folder = ws.model({
      MLmodel: mlmodel,
      'model/model.pkl': 'weights',
      'conda.yaml': 'deps'
    })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': folder,
        'artifact-path': 'outputs/mlflow',
        'asset-type': 'mlflow_model'
      })
    )
    expect(r.outputs).toMatchObject({
      registered: 'true',
      'artifact-uri': `azureml://jobs/${run}/outputs/artifacts/paths/outputs/mlflow/`
    })
    expect(ws.versions(model)[0]).toMatchObject({
      modelType: 'mlflow_model',
      modelUri: `azureml://jobs/${run}/outputs/artifacts/paths/outputs/mlflow/`,
      flavors: { python_function: { data: { loader_module: 'mlflow.sklearn' } } }
    })
    expect((await ws.emu.readArtifact(run, 'outputs/mlflow/model/model.pkl')).toString()).toBe(
      'weights'
    )
    expect((await ws.emu.readArtifact(run, 'outputs/mlflow/MLmodel')).toString()).toBe(mlmodel)
  })

  test('a folder re-run reads one manifest, not every file; other bytes are named', async () => {
    const model = ws.unique('manyfiles')
    const run = ws.addRun({ tags: { best_model: 'MLP', accuracy: '0.9' } })
    const files: Record<string, string> = {}
    for (let i = 0; i < 120; i++) files[`layer${i % 4}/part-${i}.bin`] = `weights ${i}`
    const inputs = ws.inputs({
      'run-id': run,
      'model-name': model,
      'model-path': ws.model(files),
      'artifact-path': 'model'
    })
    const first = await ws.gate(inputs)
    expect(first.outputs).toMatchObject({ registered: 'true' })
    // Beside the folder, so that the registered folder holds the model's files only.
    const manifest = JSON.parse(
      (await ws.emu.readArtifact(run, 'model.gate-manifest.json')).toString()
    )
    expect(Object.keys(manifest.files)).toHaveLength(120)

    const mark = ws.emu.requestLog.length
    const again = await ws.gate(inputs)
    expect(again.outputs).toMatchObject({ registered: 'true', reason: 'already-registered' })
    const storage = ws.emu.requestLog
      .slice(mark)
      .filter(e => e.route.startsWith('history.artifacts') || e.route.startsWith('blob.'))
    // The manifest's content information and its bytes: 2 requests for 120 files.
    expect(storage.map(e => e.route)).toEqual(['history.artifacts.contentinfo', 'blob.read'])

    // A dry run judges every file by the manifest, not the first file alone.
    const otherBytes = ws.model({ ...files, 'layer1/part-5.bin': 'weights X' })
    const dry = await ws.gate({ ...inputs, 'model-path': otherBytes, 'dry-run': 'true' })
    expect(dry.error).toBeUndefined()
    expect(dry.outputs.reason).not.toBe('already-registered')
    const dryAgain = await ws.gate({ ...inputs, 'dry-run': 'true' })
    expect(dryAgain.outputs).toMatchObject({ reason: 'already-registered', 'dry-run': 'true' })

    const changed = ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': otherBytes,
        'artifact-path': 'model'
      })
    )
    expect((await changed).error).toMatch(
      /Artifact model\/layer1\/part-5\.bin already exists in run .* with different content/
    )
  })

  test('dry-run writes nothing', async () => {
    const model = ws.unique('dry')
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' } })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        'dry-run': 'true'
      })
    )
    expect(r.exitCode).toBe(0)
    expect(r.outputs).toMatchObject({
      registered: 'false',
      reason: 'first',
      'dry-run': 'true',
      'artifact-uri': '',
      'model-version': ''
    })
    expect(ws.versions(model)).toHaveLength(0)
    expect(ws.emu.state.listArtifacts(run)).toHaveLength(0)
    expect(r.summary).toContain('Dry run')
  })

  test('dry-run with fail-if-not-better judges what would have happened', async () => {
    const model = ws.unique('dry-fail')
    const common = { 'model-name': model, 'dry-run': 'true', 'fail-if-not-better': 'true' }
    const wouldRegister = await ws.gate(
      ws.inputs({
        ...common,
        'run-id': ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' } }),
        'model-path': ws.model('m')
      })
    )
    expect(wouldRegister.error).toBeUndefined()
    expect(wouldRegister.exitCode).toBe(0)
    expect(wouldRegister.outputs).toMatchObject({
      registered: 'false',
      reason: 'first',
      'dry-run': 'true'
    })
    ws.seedVersion(model, '1', { accuracy: '0.95' })
    const wouldNot = await ws.gate(
      ws.inputs({
        ...common,
        'run-id': ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' } }),
        'model-path': ws.model('m')
      })
    )
    expect(wouldNot.exitCode).toBe(1)
    expect(wouldNot.outputs).toMatchObject({ registered: 'false', reason: 'not-better' })
    expect(wouldNot.error).toMatch(
      /^fail-if-not-better is true and the model would not be registered: /
    )
    expect(ws.versions(model)).toHaveLength(1)
  })

  test('force registers a worse model and records why', async () => {
    const model = ws.unique('force')
    ws.seedVersion(model, '1', { accuracy: '0.99' })
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.5' } })
    const r = await ws.gate(
      ws.inputs({ 'run-id': run, 'model-name': model, 'model-path': ws.model('m'), force: 'true' })
    )
    expect(r.outputs).toMatchObject({ registered: 'true', reason: 'forced', 'model-version': '2' })
    expect(ws.versions(model).find(v => v.version === '2')?.tags).toMatchObject({
      gate_reason: 'forced'
    })
  })

  test('threshold and fail-if-not-better', async () => {
    const model = ws.unique('threshold')
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.8' } })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        threshold: '0.9',
        'fail-if-not-better': 'true'
      })
    )
    expect(r.exitCode).toBe(1)
    expect(r.outputs).toMatchObject({ registered: 'false', reason: 'below-threshold' })
    expect(r.error).toMatch(/fail-if-not-better/)
    expect(ws.versions(model)).toHaveLength(0)
  })

  test('a re-run of a successful step reports the same version and writes nothing new', async () => {
    const model = ws.unique('rerun')
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' } })
    const inputs = ws.inputs({
      'run-id': run,
      'model-name': model,
      'model-path': ws.model('same bytes')
    })
    const first = await ws.gate(inputs)
    expect(first.outputs).toMatchObject({ registered: 'true', 'model-version': '1' })
    const again = await ws.gate(inputs)
    expect(again.exitCode).toBe(0)
    expect(again.outputs).toMatchObject({
      registered: 'true',
      reason: 'already-registered',
      'model-version': '1',
      'model-uri': first.outputs['model-uri']
    })
    expect(ws.versions(model)).toHaveLength(1)
    // Other bytes under the same artifact path are refused.
    const other = await ws.gate({ ...inputs, 'model-path': ws.model('other bytes') })
    expect(other.exitCode).toBe(1)
    expect(other.error).toMatch(
      /artifact model.pkl already exists in run .* with different content; set artifact-path/i
    )
  })

  test('wait-minutes waits for the run to complete', async () => {
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' }, status: 'Running' })
    const model = ws.unique('wait')
    const notYet = await ws.gate(
      ws.inputs({ 'run-id': run, 'model-name': model, 'model-path': ws.model('m') })
    )
    expect(notYet.exitCode).toBe(1)
    expect(notYet.error).toMatch(/is Running, not Completed; set wait-minutes/)
    ws.emu.state.setJobStatusSequence(run, ['Running', 'Completed'])
    const waited = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        'wait-minutes': '1'
      })
    )
    expect(waited.error).toBeUndefined()
    expect(waited.outputs).toMatchObject({ registered: 'true' })
    expect(waited.stdout).toMatch(/is Running; checking again/)
  })

  test('a failed run is an error naming its status', async () => {
    const run = ws.addRun({ tags: { accuracy: '0.9' }, status: 'Failed' })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': ws.unique('failed'),
        'model-path': ws.model('m'),
        'wait-minutes': '1'
      })
    )
    expect(r.exitCode).toBe(1)
    expect(r.error).toMatch(/ended Failed, not Completed/)
  })

  test('an unknown run names the run and the workspace', async () => {
    const r = await ws.gate(
      ws.inputs({
        'run-id': 'no-such-run',
        'model-name': ws.unique('unknown'),
        'model-path': ws.model('m')
      })
    )
    expect(r.exitCode).toBe(1)
    expect(r.error).toMatch(
      new RegExp(`Run 'no-such-run' was not found in workspace '${ws.emu.workspaceName}'`)
    )
  })

  test('GitHub OIDC federation', async () => {
    const federated = ws.emu.clients.find(c => c.federated)!
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' } })
    const model = ws.unique('oidc')
    const mark = ws.emu.requestLog.length
    const r = await ws.gate(
      ws.inputs({
        'azure-credentials': undefined,
        'client-id': federated.clientId,
        'tenant-id': ws.emu.tenantId,
        'subscription-id': ws.emu.subscriptionId,
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m')
      }),
      {
        ACTIONS_ID_TOKEN_REQUEST_URL: ws.emu.oidc.requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: ws.emu.oidc.requestToken
      }
    )
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({ registered: 'true' })
    // One GitHub ID token for the one sign-in, though MSAL asks for the assertion twice.
    const signIn = ws.emu.requestLog.slice(mark).map(e => e.route)
    expect(signIn.filter(route => route === 'entra.token')).toHaveLength(1)
    expect(signIn.filter(route => route === 'github.oidc')).toHaveLength(1)
    const noPermission = await ws.gate(
      ws.inputs({
        'azure-credentials': undefined,
        'client-id': federated.clientId,
        'tenant-id': ws.emu.tenantId,
        'subscription-id': ws.emu.subscriptionId,
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m')
      })
    )
    expect(noPermission.exitCode).toBe(1)
    expect(noPermission.error).toMatch(/id-token: write/)
  })

  test('the default credential chain, pinned to the environment credential', async () => {
    const client = ws.secretClient
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.9' } })
    const r = await ws.gate(
      ws.inputs({
        'azure-credentials': undefined,
        'subscription-id': ws.emu.subscriptionId,
        'authority-host': undefined,
        'run-id': run,
        'model-name': ws.unique('default'),
        'model-path': ws.model('m')
      }),
      {
        AZURE_TOKEN_CREDENTIALS: 'EnvironmentCredential',
        AZURE_AUTHORITY_HOST: ws.emu.url,
        AZURE_TENANT_ID: ws.emu.tenantId,
        AZURE_CLIENT_ID: client.clientId,
        AZURE_CLIENT_SECRET: client.clientSecret
      }
    )
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({ registered: 'true' })
  })

  test('a wrong secret fails with advice and never prints the secret', async () => {
    const client = ws.secretClient
    const r = await ws.gate(
      ws.inputs({
        'azure-credentials': credentialsFor(ws.emu, {
          clientId: client.clientId,
          clientSecret: 'wrong-secret-value'
        }),
        'run-id': ws.addRun({ tags: { accuracy: '0.9' } }),
        'model-name': ws.unique('badsecret'),
        'model-path': ws.model('m')
      })
    )
    expect(r.exitCode).toBe(1)
    // ::add-mask:: is how a secret is handed to the runner to mask; nothing else may carry it.
    const printed = (r.stdout + r.stderr)
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
    expect(printed.join('\n')).not.toContain('wrong-secret-value')
    expect(r.error).toMatch(/invalid_client|AADSTS7000215/)
  })
})
