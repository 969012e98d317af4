// Issue 10 and the step-tree items of issue 9, row by row: the built action (dist/index.js)
// against the emulator, reading scores where v1 and v2 pipelines keep them.
import type { SeedChildRun, SeedMlflow } from '../../emulator/index.js'
import { TestWorkspace } from './workspace.js'

let ws: TestWorkspace
beforeAll(async () => {
  ws = await TestWorkspace.start()
})
afterAll(async () => {
  await ws?.stop()
})

interface Step {
  displayName: string
  tags?: Record<string, string>
  properties?: Record<string, string>
  mlflow?: SeedMlflow
  children?: Step[]
  runId?: string
}

/** A completed pipeline run with MLflow data, properties and (nested) steps. */
function pipeline(options: {
  tags?: Record<string, string>
  properties?: Record<string, string>
  mlflow?: SeedMlflow
  endedAt?: string
  steps?: Step[]
}): string {
  const name = ws.unique('v2run')
  const toChild = (step: Step, prefix: string, i: number): SeedChildRun => {
    const runId = step.runId ?? `${prefix}_s${i}`
    return {
      runId,
      name: step.displayName,
      displayName: step.displayName,
      status: 'Completed',
      tags: step.tags ?? {},
      properties: step.properties ?? {},
      mlflow: step.mlflow,
      children: step.children?.map((c, j) => toChild(c, runId, j))
    }
  }
  ws.emu.state.addJob({
    name,
    experimentName: 'iris',
    status: 'Completed',
    tags: options.tags ?? {},
    properties: options.properties ?? {},
    mlflow: options.mlflow,
    endedAt: options.endedAt ?? '2024-06-01T00:00:00Z',
    children: (options.steps ?? []).map((s, i) => toChild(s, name, i))
  })
  return name
}

const metric = (value: number, step = 0) => ({ key: 'accuracy', value, step })

async function gate(run: string, inputs: Record<string, string> = {}, model = ws.unique('m')) {
  const result = await ws.gate(
    ws.inputs({ 'run-id': run, 'model-name': model, 'model-path': ws.model(run), ...inputs })
  )
  return { ...result, model }
}

describe('a v2-style pipeline: MLflow metric on the training step, no tags anywhere', () => {
  test('registers with no extra inputs, recording the exact decimal text', async () => {
    const run = pipeline({
      steps: [
        { displayName: 'prep_step' },
        {
          displayName: 'train_step',
          mlflow: {
            metrics: [metric(0.9533, 0), metric(0.98, 1), metric(0.9667, 2)],
            tags: { best_model: 'GradientBoosting' }
          }
        }
      ]
    })
    const r = await gate(run)
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({
      registered: 'true',
      reason: 'first',
      'metric-value': '0.9667',
      'metric-source': 'mlflow-metric',
      'metric-run-id': `${run}_s1`,
      'tags-source': `${run}_s1`,
      'model-type': 'GradientBoosting',
      'run-id': run
    })
    const [v1] = ws.versions(r.model)
    expect(v1.properties).toMatchObject({ accuracy: '0.9667', model_type: 'GradientBoosting' })
    expect(v1.tags).toMatchObject({ accuracy: '0.9667' })
    expect(v1.jobName).toBe(run)
    expect(JSON.parse(r.outputs.result)).toMatchObject({
      metricSource: 'mlflow-metric',
      metricRunId: `${run}_s1`
    })
  })

  test('the shortest round-trip text of the double is what is compared and recorded', async () => {
    const run = pipeline({ mlflow: { metrics: [metric(0.1 + 0.2)] } })
    const r = await gate(run)
    expect(r.outputs['metric-value']).toBe('0.30000000000000004')
    expect(ws.versions(r.model)[0].properties?.accuracy).toBe('0.30000000000000004')
  })
})

describe('metric-source', () => {
  const mixed = () =>
    pipeline({
      tags: { accuracy: '0.91', best_model: 'Tagged' },
      properties: { accuracy: '0.93' },
      mlflow: { metrics: [metric(0.92)], params: { best_model: 'Param' } },
      steps: [
        { displayName: 'train', tags: { accuracy: '0.94' }, mlflow: { metrics: [metric(0.95)] } }
      ]
    })

  test('auto: the pipeline tag first', async () => {
    const r = await gate(mixed())
    expect(r.outputs).toMatchObject({ 'metric-value': '0.91', 'metric-source': 'tag' })
  })
  test('mlflow-metric: the pipeline MLflow metric, tags ignored; model type from its params', async () => {
    const run = pipeline({
      tags: { accuracy: '0.91' },
      mlflow: { metrics: [metric(0.92)], params: { best_model: 'Param' } },
      steps: [{ displayName: 'train', mlflow: { metrics: [metric(0.95)] } }]
    })
    const r = await gate(run, { 'metric-source': 'mlflow-metric' })
    expect(r.outputs).toMatchObject({
      'metric-value': '0.92',
      'metric-source': 'mlflow-metric',
      'metric-run-id': run,
      'model-type': 'Param'
    })
  })
  test('property: the run property (v1 add_properties)', async () => {
    const run = mixed()
    const r = await gate(run, { 'metric-source': 'property' })
    expect(r.outputs).toMatchObject({
      'metric-value': '0.93',
      'metric-source': 'property',
      'metric-run-id': run
    })
  })
  test('tag: the training step tag when the pipeline has none, MLflow metrics ignored', async () => {
    const run = pipeline({
      mlflow: { metrics: [metric(0.92)] },
      steps: [{ displayName: 'train', tags: { accuracy: '0.94', best_model: 'RF' } }]
    })
    const r = await gate(run, { 'metric-source': 'tag' })
    expect(r.outputs).toMatchObject({ 'metric-value': '0.94', 'metric-source': 'tag' })
    const none = pipeline({ mlflow: { metrics: [metric(0.92)] } })
    const failed = await gate(none, { 'metric-source': 'tag' })
    expect(failed.exitCode).toBe(1)
    expect(failed.error).toMatch(
      new RegExp(`^Tag 'accuracy' was not found on pipeline run ${none}`)
    )
  })
  test('auto: pipeline MLflow metric before pipeline property, property before any step', async () => {
    const withMetric = pipeline({
      properties: { accuracy: '0.93' },
      mlflow: { metrics: [metric(0.92)] },
      steps: [{ displayName: 'train', tags: { accuracy: '0.94' } }]
    })
    expect((await gate(withMetric)).outputs).toMatchObject({
      'metric-value': '0.92',
      'metric-source': 'mlflow-metric'
    })
    const withProperty = pipeline({
      properties: { accuracy: '0.93' },
      steps: [{ displayName: 'train', tags: { accuracy: '0.94' } }]
    })
    expect((await gate(withProperty)).outputs).toMatchObject({
      'metric-value': '0.93',
      'metric-source': 'property'
    })
  })
  test('auto on the step: tag, then MLflow metric, then property', async () => {
    const run = pipeline({
      steps: [
        {
          displayName: 'train',
          properties: { accuracy: '0.96' },
          mlflow: { metrics: [metric(0.95)] }
        }
      ]
    })
    expect((await gate(run)).outputs).toMatchObject({
      'metric-value': '0.95',
      'metric-source': 'mlflow-metric'
    })
    const onlyProperty = pipeline({
      steps: [{ displayName: 'train', properties: { accuracy: '0.96' } }]
    })
    expect((await gate(onlyProperty)).outputs).toMatchObject({
      'metric-value': '0.96',
      'metric-source': 'property',
      'metric-run-id': `${onlyProperty}_s0`
    })
  })
  test('several steps with the MLflow metric: an error listing them; training-step-name picks one', async () => {
    const run = pipeline({
      steps: [
        { displayName: 'train', mlflow: { metrics: [metric(0.95)] } },
        { displayName: 'eval', mlflow: { metrics: [metric(0.5)] } }
      ]
    })
    const r = await gate(run, { 'metric-source': 'mlflow-metric' })
    expect(r.exitCode).toBe(1)
    expect(r.error).toMatch(
      /Several steps .* have the MLflow metric 'accuracy': train \(.*_s0\) = 0.95, eval \(.*_s1\) = 0.5; set training-step-name/
    )
    const named = await gate(run, { 'training-step-name': 'train' })
    expect(named.outputs).toMatchObject({ 'metric-value': '0.95', 'metric-run-id': `${run}_s0` })
  })
  test('a bad metric-source or metric-aggregation is a one-line input error', async () => {
    const run = pipeline({ tags: { accuracy: '0.9' } })
    const r = await gate(run, { 'metric-source': 'metrics' })
    expect(r.exitCode).toBe(1)
    expect(r.error).toMatch(
      /^Input 'metric-source': 'metrics' is not one of auto, tag, mlflow-metric, property/
    )
    const a = await gate(run, { 'metric-aggregation': 'mean' })
    expect(a.error).toMatch(/metric-aggregation.*'mean' is not one of last, max, min/)
  })
})

describe('metric-aggregation over a series longer than a page', () => {
  // Steps 0..11 in an order that makes last, max and min all different.
  const values = [0.61, 0.7, 0.99, 0.8, 0.5, 0.72, 0.75, 0.77, 0.79, 0.81, 0.83, 0.85]
  const series = () =>
    pipeline({
      steps: [
        {
          displayName: 'train',
          mlflow: { metrics: values.map((v, step) => metric(v, step)).reverse() }
        }
      ]
    })
  test.each([
    ['last', '0.85'],
    ['max', '0.99'],
    ['min', '0.5']
  ])('%s', async (aggregation, expected) => {
    const r = await gate(series(), { 'metric-aggregation': aggregation })
    expect(r.error).toBeUndefined()
    expect(r.outputs['metric-value']).toBe(expected)
    expect(ws.versions(r.model)[0].properties?.accuracy).toBe(expected)
  })
})

describe('the champion', () => {
  test('a version without the property but with a jobName is scored from its job, and the summary says so', async () => {
    const job = pipeline({ steps: [{ displayName: 'train', mlflow: { metrics: [metric(0.97)] } }] })
    const model = ws.unique('registered-by-mlflow')
    ws.emu.state.addModelVersion(model, {
      version: '1',
      modelUri: `azureml://jobs/${job}/outputs/artifacts/paths/model`,
      jobName: job,
      properties: {}
    })
    const run = pipeline({ steps: [{ displayName: 'train', mlflow: { metrics: [metric(0.95)] } }] })
    const r = await gate(run, {}, model)
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({
      registered: 'false',
      reason: 'not-better',
      'champion-version': '1',
      'champion-value': '0.97'
    })
    expect(r.summary).toContain(`score read from job ${job}`)
    expect(r.stdout).not.toMatch(/Version 1 of .* has no 'accuracy' property/)
  })
})

describe('metrics that arrive after the run completed', () => {
  test('looks again for up to 2 minutes when the run completed moments ago', async () => {
    const run = pipeline({ endedAt: new Date().toISOString(), steps: [{ displayName: 'train' }] })
    const late = setTimeout(() => ws.emu.state.logMetric(`${run}_s0`, metric(0.93)), 4_000)
    try {
      const r = await gate(run)
      expect(r.error).toBeUndefined()
      expect(r.outputs).toMatchObject({ 'metric-value': '0.93', 'metric-run-id': `${run}_s0` })
      expect(r.stdout).toMatch(/its score is not there yet; looking again in \d+ s/)
    } finally {
      clearTimeout(late)
    }
  })
})

describe('the step tree (issue 9)', () => {
  test('two steps with the same display name: training-step-name is ambiguous, not the first', async () => {
    const run = ws.addRun({
      children: [
        { displayName: 'train_step', tags: { accuracy: '0.50', best_model: 'Worse' } },
        { displayName: 'train_step', tags: { accuracy: '0.99', best_model: 'Better' } }
      ]
    })
    const r = await gate(run, { 'training-step-name': 'train_step' })
    expect(r.exitCode).toBe(1)
    expect(r.error).toMatch(
      new RegExp(
        `Several steps of run ${run} are named 'train_step': train_step \\(${run}_step0\\), train_step \\(${run}_step1\\)`
      )
    )
    expect(ws.versions(r.model)).toHaveLength(0)
  })
  test('a training step inside a sub-pipeline is found, and named by its path', async () => {
    const run = pipeline({
      steps: [
        { displayName: 'prep' },
        {
          displayName: 'training',
          children: [
            { displayName: 'featurize' },
            {
              displayName: 'train_step',
              mlflow: { metrics: [metric(0.9733)], params: { best_model: 'SVC' } }
            }
          ]
        }
      ]
    })
    const found = await gate(run)
    expect(found.error).toBeUndefined()
    expect(found.outputs).toMatchObject({
      'metric-value': '0.9733',
      'metric-run-id': `${run}_s1_s1`,
      'model-type': 'SVC'
    })
    const byPath = await gate(run, { 'training-step-name': 'training/train_step' })
    expect(byPath.outputs).toMatchObject({ 'metric-run-id': `${run}_s1_s1` })
    const byName = await gate(run, { 'training-step-name': 'train_step' })
    expect(byName.outputs).toMatchObject({ 'metric-run-id': `${run}_s1_s1` })
  })
  test('a reused step is read as the run it reused', async () => {
    const original = pipeline({
      steps: [
        { displayName: 'train', tags: { best_model: 'RF' }, mlflow: { metrics: [metric(0.96)] } }
      ]
    })
    const run = pipeline({
      steps: [
        {
          displayName: 'train',
          properties: { 'azureml.isreused': 'true', 'azureml.reusedrunid': `${original}_s0` }
        }
      ]
    })
    const r = await gate(run)
    expect(r.error).toBeUndefined()
    expect(r.outputs).toMatchObject({
      'metric-value': '0.96',
      'metric-run-id': `${original}_s0`,
      'model-type': 'RF'
    })
    const named = await gate(run, { 'training-step-name': 'train', 'metric-source': 'tag' })
    expect(named.error).toMatch(
      /Tag 'accuracy' was found neither on pipeline run .* nor on its step train \(.*_s0, reusing .*_s0\)/
    )
  })
})
