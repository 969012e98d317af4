import { InputError } from '../../src/errors.js'
import { judge, type Requirements } from '../../src/verify/main.js'
import { readVerifyConfig } from '../../src/verify/inputs.js'

const GATED = {
  'gate.reason': 'better',
  'github.repository': 'octo/repo',
  'github.ref': 'refs/heads/main',
  'github.sha': 'abc123',
  'github.run_url': 'https://github.com/octo/repo/actions/runs/1/attempts/1'
}
const DEFAULTS: Requirements = { allowedReasons: ['first', 'better'], repository: 'octo/repo' }

function version(properties: Record<string, string>) {
  return { modelName: 'iris', version: '7', properties }
}

describe('judge', () => {
  test('a version the gate registered from this repository passes', () => {
    expect(judge(version(GATED), DEFAULTS)).toEqual({
      verified: true,
      unmet: [],
      reason: 'better',
      sha: 'abc123',
      runUrl: 'https://github.com/octo/repo/actions/runs/1/attempts/1'
    })
    // GitHub names repositories without regard to case.
    expect(judge(version(GATED), { ...DEFAULTS, repository: 'Octo/Repo' }).verified).toBe(true)
  })

  test('a version registered by hand', () => {
    const j = judge(version({ accuracy: '0.9' }), DEFAULTS)
    expect(j.verified).toBe(false)
    expect(j.unmet).toEqual([
      'Version 7 of iris was registered by hand: it has no gate.reason property'
    ])
  })

  test('a forced version passes only when forced is allowed', () => {
    const forced = version({ ...GATED, 'gate.reason': 'forced' })
    expect(judge(forced, DEFAULTS).unmet).toEqual([
      "Version 7 of iris was registered with reason 'forced', which allowed-reasons (first, better) does not list"
    ])
    expect(judge(forced, { ...DEFAULTS, allowedReasons: ['better', 'forced'] }).verified).toBe(true)
  })

  test('another repository, another ref: each its own sentence', () => {
    const j = judge(version({ ...GATED, 'github.repository': 'evil/fork' }), {
      ...DEFAULTS,
      ref: 'refs/heads/release'
    })
    expect(j.verified).toBe(false)
    expect(j.unmet).toEqual([
      'Version 7 of iris was registered from repository evil/fork, not octo/repo',
      'Version 7 of iris was registered from ref refs/heads/main, not refs/heads/release'
    ])
    expect(judge(version(GATED), { ...DEFAULTS, ref: 'refs/heads/main' }).verified).toBe(true)
  })
})

describe('readVerifyConfig', () => {
  const BASE = {
    'resource-group': 'rg',
    'workspace-name': 'ws',
    'azure-credentials': JSON.stringify({
      clientId: 'c',
      clientSecret: 's',
      tenantId: 't',
      subscriptionId: 'sub'
    })
  }
  function read(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
    for (const key of Object.keys(process.env))
      if (key.startsWith('INPUT_')) delete process.env[key]
    for (const [name, value] of Object.entries({ ...BASE, ...inputs }))
      process.env[`INPUT_${name.toUpperCase()}`] = value
    return readVerifyConfig({ GITHUB_REPOSITORY: 'octo/repo', ...env })
  }
  function inputOf(inputs: Record<string, string>, env?: NodeJS.ProcessEnv): string {
    try {
      read(inputs, env)
    } catch (error) {
      expect(error).toBeInstanceOf(InputError)
      return (error as InputError).input
    }
    throw new Error('expected an InputError')
  }
  afterAll(() => {
    for (const key of Object.keys(process.env))
      if (key.startsWith('INPUT_')) delete process.env[key]
  })

  test('model-uri, defaults from the current repository', () => {
    expect(read({ 'model-uri': 'azureml:iris-clf:3' })).toMatchObject({
      modelName: 'iris-clf',
      version: '3',
      allowedReasons: ['first', 'better'],
      repository: 'octo/repo',
      ref: undefined,
      subscriptionId: 'sub'
    })
  })

  test('model-name and model-version, reasons, repository and ref', () => {
    expect(
      read({
        'model-name': 'iris',
        'model-version': '4',
        'allowed-reasons': 'better, forced',
        repository: 'other/repo',
        ref: 'refs/heads/main'
      })
    ).toMatchObject({
      modelName: 'iris',
      version: '4',
      allowedReasons: ['better', 'forced'],
      repository: 'other/repo',
      ref: 'refs/heads/main'
    })
  })

  test('bad inputs name the input', () => {
    expect(inputOf({})).toBe('model-uri')
    expect(inputOf({ 'model-uri': 'iris:3' })).toBe('model-uri')
    expect(inputOf({ 'model-uri': 'azureml:iris:3', 'model-name': 'iris' })).toBe('model-uri')
    expect(inputOf({ 'model-name': 'iris' })).toBe('model-version')
    expect(inputOf({ 'model-uri': 'azureml:iris:3', 'allowed-reasons': 'better,maybe' })).toBe(
      'allowed-reasons'
    )
    expect(inputOf({ 'model-uri': 'azureml:iris:3', repository: 'not a repo' })).toBe('repository')
    expect(inputOf({ 'model-uri': 'azureml:iris:3' }, { GITHUB_REPOSITORY: '' })).toBe('repository')
  })
})
