import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../../src/errors.js'
import { parseKeyValues, readConfig } from '../../src/inputs.js'
import { workflowCommands } from '../setup/workflow-commands.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-inputs-'))
const modelFile = path.join(dir, 'model.pkl')
fs.writeFileSync(modelFile, 'model bytes')
const emptyFile = path.join(dir, 'empty.pkl')
fs.writeFileSync(emptyFile, '')
const emptyFolder = path.join(dir, 'empty-folder')
fs.mkdirSync(emptyFolder)
const folder = path.join(dir, 'mlflow-model')
fs.mkdirSync(path.join(folder, 'sub'), { recursive: true })
fs.writeFileSync(path.join(folder, 'MLmodel'), 'flavors: {}')
fs.writeFileSync(path.join(folder, 'sub', 'model.pkl'), 'bytes')

const BASE: Record<string, string> = {
  'resource-group': 'rg',
  'workspace-name': 'ws',
  'run-id': 'pj1',
  'model-name': 'iris-classifier',
  'model-path': modelFile,
  'azure-credentials': JSON.stringify({
    clientId: 'c',
    clientSecret: 's',
    tenantId: 't',
    subscriptionId: 'sub'
  })
}

function withInputs(inputs: Record<string, string | undefined>) {
  for (const key of Object.keys(process.env)) if (key.startsWith('INPUT_')) delete process.env[key]
  for (const [name, value] of Object.entries({ ...BASE, ...inputs })) {
    if (value !== undefined) process.env[`INPUT_${name.toUpperCase()}`] = value
  }
  return readConfig({})
}

function inputError(inputs: Record<string, string | undefined>): InputError {
  try {
    withInputs(inputs)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).not.toContain('\n')
    return error as InputError
  }
  throw new Error('expected an InputError')
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('readConfig', () => {
  test('defaults', () => {
    const config = withInputs({})
    expect(config.metric).toBe('accuracy')
    expect(config.modelTypeTag).toBe('best_model')
    expect(config.rule.higherIsBetter).toBe(true)
    expect(config.rule.minImprovement.toString()).toBe('0')
    expect(config.rule.threshold).toBeUndefined()
    expect(config.compareTo).toEqual({ kind: 'latest' })
    expect(config.allowFirst).toBe(false)
    expect(config.assetType).toBe('custom_model')
    expect(config.artifactPath).toBe('model.pkl')
    expect(config.model.kind).toBe('file')
    expect(config.subscriptionId).toBe('sub')
    expect(config.auth.kind).toBe('secret')
    expect(config.cloud.armEndpoint).toBe('https://management.azure.com')
    expect(config.cloud.disableInstanceDiscovery).toBe(false)
    expect(Object.isFrozen(config)).toBe(true)
  })

  test('metric-source, metric-aggregation and a training step path', () => {
    const defaults = withInputs({})
    expect([defaults.metricSource, defaults.metricAggregation]).toEqual(['auto', 'last'])
    const config = withInputs({
      'metric-source': 'mlflow-metric',
      'metric-aggregation': 'max',
      'training-step-name': ' training / train_step '
    })
    expect([config.metricSource, config.metricAggregation]).toEqual(['mlflow-metric', 'max'])
    expect(config.trainingStepName).toBe('training/train_step')
    expect(inputError({ 'metric-source': 'tags' }).message).toBe(
      "Input 'metric-source': 'tags' is not one of auto, tag, mlflow-metric, property"
    )
    expect(inputError({ 'metric-aggregation': 'mean' }).input).toBe('metric-aggregation')
    expect(inputError({ 'training-step-name': 'training//train_step' }).message).toMatch(
      /^Input 'training-step-name': 'training\/\/train_step' has an empty part/
    )
  })

  test('a folder model keeps relative paths', () => {
    const config = withInputs({ 'model-path': folder })
    expect(config.model.kind).toBe('folder')
    expect(config.model.files.map(f => f.relativePath)).toEqual(['MLmodel', 'sub/model.pkl'])
    expect(config.artifactPath).toBe('mlflow-model')
  })

  test('compare-to modes and numbers', () => {
    const config = withInputs({
      'compare-to': 'tag:stage=production',
      'min-improvement': '0.01',
      'min-relative-improvement': '1e-2',
      threshold: '-0.5',
      'higher-is-better': 'false',
      'wait-minutes': '1.5'
    })
    expect(config.compareTo).toEqual({ kind: 'tag', key: 'stage', value: 'production' })
    expect(withInputs({ 'allow-first': 'true' }).allowFirst).toBe(true)
    expect(withInputs({ 'compare-to': 'tag:stage=prod,eu' }).compareTo).toEqual({
      kind: 'tag',
      key: 'stage',
      value: 'prod,eu'
    })
    expect(config.rule.minRelativeImprovement.toString()).toBe('0.01')
    expect(config.rule.threshold?.toString()).toBe('-0.5')
    expect(config.rule.higherIsBetter).toBe(false)
    expect(config.waitMinutes).toBe(1.5)
  })

  test('guardrails: one rule a line, comments and blank lines ignored; none by default', () => {
    expect(withInputs({}).rule.guardrails).toEqual([])
    const config = withInputs({
      guardrails: '# must not regress\nlatency_ms <= champion * 1.10\n\nf1 >= 0.80\n'
    })
    expect(config.rule.guardrails?.map(g => `${g.name} ${g.op} ${g.boundText}`)).toEqual([
      'latency_ms <= champion * 1.10',
      'f1 >= 0.80'
    ])
  })

  test('OIDC and the default chain', () => {
    expect(
      withInputs({
        'azure-credentials': undefined,
        'client-id': 'app',
        'tenant-id': 'ten',
        'subscription-id': 's'
      }).auth
    ).toEqual({
      kind: 'oidc',
      clientId: 'app',
      tenantId: 'ten',
      audience: 'api://AzureADTokenExchange'
    })
    expect(withInputs({ 'azure-credentials': undefined, 'subscription-id': 's' }).auth).toEqual({
      kind: 'default'
    })
  })

  test('clouds and overrides', () => {
    const gov = withInputs({ cloud: 'AzureUSGovernment' })
    expect(gov.cloud.armEndpoint).toBe('https://management.usgovcloudapi.net')
    const local = withInputs({
      'arm-endpoint': 'https://127.0.0.1:8443/',
      'authority-host': 'https://127.0.0.1:8443'
    })
    expect(local.cloud.armEndpoint).toBe('https://127.0.0.1:8443')
    expect(local.cloud.disableInstanceDiscovery).toBe(true)
  })

  test.each([
    [{ 'resource-group': undefined }, 'resource-group', /required/],
    [{ 'workspace-name': '' }, 'workspace-name', /required/],
    [{ 'run-id': undefined }, 'run-id', /required/],
    [{ 'model-name': undefined }, 'model-name', /required/],
    [{ 'model-name': 'bad name!' }, 'model-name', /not a valid model name/],
    [{ 'model-name': '-leading' }, 'model-name', /not a valid model name/],
    [{ force: 'yes' }, 'force', /true or false/],
    [{ 'dry-run': '1' }, 'dry-run', /true or false/],
    [{ 'higher-is-better': 'maybe' }, 'higher-is-better', /true or false/],
    [{ 'min-improvement': 'abc' }, 'min-improvement', /not a decimal/],
    [{ 'min-improvement': '-0.1' }, 'min-improvement', /0 or more/],
    [{ 'min-relative-improvement': '-1' }, 'min-relative-improvement', /0 or more/],
    [{ threshold: 'high' }, 'threshold', /not a decimal/],
    [{ 'wait-minutes': 'soon' }, 'wait-minutes', /not a decimal/],
    [{ 'wait-minutes': '1e1000' }, 'wait-minutes', /at most 7200 \(a job runs at most 5 days\)/],
    [{ 'compare-to': 'oldest' }, 'compare-to', /latest, best or tag:KEY=VALUE/],
    [{ 'compare-to': 'tag:stage' }, 'compare-to', /tag:KEY=VALUE/],
    [{ 'asset-type': 'onnx' }, 'asset-type', /custom_model, mlflow_model, triton_model/],
    [{ cloud: 'Mars' }, 'cloud', /AzureCloud/],
    [{ 'artifact-path': '/abs/model.pkl' }, 'artifact-path', /relative/],
    [{ 'artifact-path': '../model.pkl' }, 'artifact-path', /no '\.\.'/],
    [{ 'artifact-path': 'a/../../b' }, 'artifact-path', /relative/],
    [{ 'model-path': path.join(dir, 'missing.pkl') }, 'model-path', /does not exist/],
    [{ 'model-path': emptyFile }, 'model-path', /is empty/],
    [{ 'model-path': emptyFolder }, 'model-path', /has no files/],
    [{ 'azure-credentials': '{not json' }, 'azure-credentials', /not valid JSON/],
    [
      { 'azure-credentials': '{"clientId":"c"}' },
      'azure-credentials',
      /missing clientSecret, tenantId/
    ],
    [{ tags: 'novalue' }, 'tags', /not key=value/],
    [{ properties: '{"a": {"b": 1}}' }, 'properties', /string, number or boolean/],
    [{ properties: '[1]' }, 'properties', /JSON object/],
    [
      { 'azure-credentials': undefined, 'client-id': 'x' },
      'tenant-id',
      /required with 'client-id'/
    ],
    [{ 'azure-credentials': undefined }, 'subscription-id', /required/],
    [{ 'arm-endpoint': 'http://127.0.0.1' }, 'arm-endpoint', /https/],
    [
      { guardrails: 'f1 >= 0.8\nlatency_ms =< 120' },
      'guardrails',
      /line 2 'latency_ms =< 120' is not NAME OP BOUND, .*champion \* D/
    ],
    [{ guardrails: 'recall >= champ - 0.02' }, 'guardrails', /line 1 'recall >= champ - 0.02'/]
  ] as [Record<string, string | undefined>, string, RegExp][])(
    '%j → error on %s',
    (inputs, name, pattern) => {
      const error = inputError(inputs)
      expect(error.input).toBe(name)
      expect(error.message).toMatch(new RegExp(`^Input '${name}': `))
      expect(error.message).toMatch(pattern)
    }
  )

  test('the client secret never appears in an error', () => {
    const error = inputError({
      'azure-credentials': '{"clientSecret":"hunter2-secret","clientId":"c"}'
    })
    expect(error.message).not.toContain('hunter2-secret')
  })

  test('the credentials and the client secret in them are masked before any check', () => {
    inputError({ 'azure-credentials': '{"clientSecret":"hunter2-secret","clientId":"c"}' })
    expect(workflowCommands()).toEqual([
      '::add-mask::{"clientSecret":"hunter2-secret","clientId":"c"}',
      '::add-mask::hunter2-secret'
    ])
  })
})

describe('parseKeyValues', () => {
  test('lines and JSON agree', () => {
    expect(
      parseKeyValues('tags', 'quality=good\n# comment\ntype = classification\nurl=a=b')
    ).toEqual({
      quality: 'good',
      type: 'classification',
      url: 'a=b'
    })
    expect(parseKeyValues('tags', '{"quality":"good","n":1,"ok":true}')).toEqual({
      quality: 'good',
      n: '1',
      ok: 'true'
    })
  })
})

describe('provenance and pull request inputs', () => {
  test('properties may not set a key the gate records', () => {
    const error = inputError({ properties: 'team=ml\ngate.reason=better' })
    expect(error.input).toBe('properties')
    expect(error.message).toMatch(/'gate\.reason' is recorded by the gate itself/)
    expect(inputError({ properties: '{"github.repository": "octo/x"}' }).message).toMatch(
      /'github\.repository'/
    )
  })

  test('pull-request must be a number', () => {
    expect(withInputs({ 'pull-request': '17' }).pullRequest).toBe(17)
    expect(withInputs({}).pullRequest).toBeUndefined()
    expect(inputError({ 'pull-request': 'abc' }).input).toBe('pull-request')
    expect(inputError({ 'pull-request': '0' }).input).toBe('pull-request')
  })
})
