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
  test('a registered candidate is labelled with its version', () => {
    expect(historyChart(outcome())).toContain('x-axis ["v1", "v2", "v3"]')
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
