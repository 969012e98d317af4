import { historyChart, summaryMarkdown, decisionRecord } from '../../src/report.js'
import type { Outcome } from '../../src/outcome.js'

const outcome = (overrides: Partial<Outcome> = {}): Outcome => ({
  registered: true,
  reason: 'better',
  why: 'Registered: 0.98 beats champion v2 0.9667 by 0.0133 (higher is better).',
  dryRun: false,
  modelName: 'iris-classifier',
  modelVersion: '3',
  modelId:
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/models/iris-classifier/versions/3',
  modelUri: 'azureml:iris-classifier:3',
  artifactUri: 'azureml://jobs/pj3/outputs/artifacts/paths/model.pkl',
  metric: 'accuracy',
  metricValue: '0.98',
  higherIsBetter: true,
  championVersion: '2',
  championValue: '0.9667',
  improvement: '0.0133',
  modelType: 'SVC',
  runId: 'pj3',
  metricSource: 'mlflow-metric',
  metricRunId: 'pj3_train',
  championNote: '',
  tagsSource: 'pj3_train',
  history: [
    { version: '2', value: '0.9667' },
    { version: '1', value: '0.9333' }
  ],
  links: {
    run: 'https://ml.azure.com/runs/pj3?wsid=x',
    model: 'https://ml.azure.com/model/iris-classifier:3/details?wsid=x'
  },
  rule: { minImprovement: '0', minRelativeImprovement: '0', threshold: '', compareTo: 'latest' },
  ...overrides
})

describe('summaryMarkdown', () => {
  test('headline, table, rule, links and record', () => {
    const md = summaryMarkdown(outcome())
    expect(md).toMatch(/^## ✅ iris-classifier v3 registered/)
    expect(md).toContain('| **Candidate** | v3 | **0.98** | mlflow-metric of [pj3_train](')
    expect(md).toContain('| Champion | v2 | 0.9667 |')
    expect(md).toContain('| Improvement | | +0.0133 | |')
    expect(md).toContain(
      '[Model iris-classifier v3](https://ml.azure.com/model/iris-classifier:3/details?wsid=x)'
    )
    expect(md).toContain('<details><summary>Decision record</summary>')
    expect(md).toContain('"reason": "better"')
  })

  test('not registered, no champion', () => {
    const md = summaryMarkdown(
      outcome({
        registered: false,
        reason: 'below-threshold',
        modelVersion: '',
        championVersion: '',
        championValue: '',
        improvement: '',
        history: []
      })
    )
    expect(md).toMatch(/^## ⏸️ iris-classifier: not registered \(below-threshold\)/)
    expect(md).toContain('| Champion | none |')
    expect(md).not.toContain('xychart-beta')
  })

  test('dry run says so', () => {
    expect(summaryMarkdown(outcome({ registered: false, dryRun: true, modelVersion: '' }))).toMatch(
      /^## 🧪 Dry run/
    )
  })
})

describe('historyChart', () => {
  test('oldest to newest, then the candidate', () => {
    const chart = historyChart(outcome({ registered: false, modelVersion: '' }))!
    expect(chart).toContain('x-axis ["v1", "v2", "candidate"]')
    expect(chart).toContain('bar [0.9333, 0.9667, 0.98]')
    expect(chart).toMatch(/y-axis "accuracy" [\d.]+ --> [\d.]+/)
  })
  test('a registered candidate is labelled with its version, marked as the candidate', () => {
    expect(historyChart(outcome())).toContain('x-axis ["v1", "v2", "candidate v3"]')
    // A re-run: the version holding this run's model is already in the history.
    const rerun = outcome({
      reason: 'already-registered',
      modelVersion: '2',
      history: [
        { version: '2', value: '0.98' },
        { version: '1', value: '0.9333' }
      ]
    })
    expect(historyChart(rerun)).toContain('x-axis ["v1", "candidate v2"]')
  })
  test('says in the chart when the value axis does not start at 0', () => {
    const chart = historyChart(outcome())!
    const [, low] = /y-axis "accuracy" ([\d.-]+) --> [\d.]+/.exec(chart)!
    expect(Number(low)).toBeGreaterThan(0.9)
    expect(chart).toContain(`title "accuracy by version (value axis from ${low}, not 0)"`)
  })
  test('starts the axis at 0 rather than below it for scores that are not negative', () => {
    const chart = historyChart(
      outcome({
        metricValue: '0.5',
        history: [
          { version: '2', value: '0.02' },
          { version: '1', value: '0.4' }
        ]
      })
    )!
    expect(chart).toMatch(/y-axis "accuracy" 0 --> [\d.]+/)
    expect(chart).toContain('title "accuracy by version"')
  })
  test.each([
    ['a candidate of 1e400', { metricValue: '1e400' }],
    ['a champion of 1e309', { history: [{ version: '2', value: '1e309' }] }],
    ['a score of 1e-1000', { metricValue: '1e-1000' }]
  ])('%s: no chart but a line saying why, and no exception', (_label, overrides) => {
    const md = summaryMarkdown(outcome(overrides as Partial<Outcome>))
    expect(md).not.toContain('xychart-beta')
    expect(md).toMatch(/No chart: scores beyond/)
  })
  test('plots exact scores rounded to what a chart can show', () => {
    const chart = historyChart(outcome({ metricValue: '0.123456789012345678901234567890123' }))!
    expect(chart).toContain('bar [0.9333, 0.9667, 0.12345679]')
  })
})

describe('decisionRecord', () => {
  test('holds every output', () => {
    const record = decisionRecord(outcome())
    for (const key of [
      'registered',
      'reason',
      'modelVersion',
      'modelUri',
      'artifactUri',
      'metricValue',
      'championVersion',
      'championValue',
      'modelType',
      'runId',
      'metricSource',
      'metricRunId',
      'tagsSource'
    ]) {
      expect(record).toHaveProperty(key)
    }
  })
})
