// `npm run try`, as a user types it: the emulator, a seeded run and champion, the built action.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseTryArgs } from '../../scripts/try.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const dir = mkdtempSync(path.join(tmpdir(), 'gate-try-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `npm run try -- ...args` from `cwd`; the outputs are read from the printed table. */
function npmTry(
  args: string[],
  cwd = root
): Promise<{ code: number; stdout: string; stderr: string; outputs: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    const child = spawn('npm', ['run', '--silent', '--prefix', root, 'try', '--', ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => {
      const table = stdout.split('\nOutputs:\n')[1]?.split('\n\n')[0] ?? ''
      const outputs = Object.fromEntries(
        table
          .split('\n')
          .map(line => /^ {2}(\S+) +(.*)$/.exec(line))
          .filter(match => match !== null)
          .map(match => [match[1], match[2]])
      )
      resolve({ code: code ?? -1, stdout, stderr, outputs })
    })
  })
}

test('a better score than the champion is registered as the next version', async () => {
  writeFileSync(path.join(dir, 'my.pkl'), 'my model')
  // A relative --model, from the caller's folder, as in the README.
  const run = await npmTry(['--score', '0.97', '--champion', '0.96', '--model', './my.pkl'], dir)
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  expect(run.outputs).toMatchObject({
    registered: 'true',
    reason: 'better',
    'model-name': 'my-model',
    'model-version': '2',
    'metric-value': '0.97',
    'champion-version': '1',
    'champion-value': '0.96',
    'artifact-uri': 'azureml://jobs/try-run/outputs/artifacts/paths/my.pkl'
  })
  expect(run.stdout).toContain('## ✅ my-model v2 registered')
})

test('a lower-is-better metric on a training step, with gate inputs passed through', async () => {
  const model = path.join(dir, 'regressor.pkl')
  writeFileSync(model, 'a regressor')
  const run = await npmTry([
    '--score=0.31',
    '--champion',
    '0.30',
    '--model',
    model,
    '--metric',
    'rmse',
    '--lower-is-better',
    '--step',
    'train',
    '--model-name',
    'house-prices'
  ])
  expect(run.code).toBe(0)
  expect(run.outputs).toMatchObject({
    registered: 'false',
    reason: 'not-better',
    'model-name': 'house-prices',
    'metric-value': '0.31',
    'champion-value': '0.30',
    'tags-source': 'try-run-step'
  })
  expect(run.stdout).toContain('rmse (lower is better)')
})

test('a bad flag: one line on stderr naming it, exit code 1, nothing started', async () => {
  const run = await npmTry(['--score', 'high', '--model', 'x'], dir)
  expect(run.code).toBe(1)
  expect(run.stdout).toBe('')
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(run.stderr).toMatch(/^npm run try: --score 'high' is not a decimal number/)
})

test.each([
  [['--score', '0.9', '--model', 'x', '--colour', 'red'], /--colour is neither a try option/],
  [['--score', '0.9'], /--model is required/],
  [['--model', 'x'], /--score is required/],
  [['--score', '0.9', '--champion', '1,5', '--model', 'x'], /--champion '1,5' is not a decimal/],
  [['--score', '0.9', '--model', 'x', '--arm-endpoint', 'https://example.com'], /is set by/],
  [['--score', '0.9', '--model', 'x', '--force'], /--force needs a value/],
  [['--score', '0.9', '--model', 'x', 'stray'], /unexpected 'stray'/]
])('bad flags %j are refused before anything starts', (args, message) => {
  expect(() => parseTryArgs(args, new Set(['force', 'metric', 'model-name']))).toThrow(message)
})

test('flags map to gate inputs', () => {
  const options = parseTryArgs(
    ['--score', '0.1', '--model', 'm', '--lower-is-better', '--step', 'train', '--force', 'true'],
    new Set(['force'])
  )
  expect(options).toEqual({
    score: '0.1',
    champion: undefined,
    model: 'm',
    modelType: 'candidate',
    step: 'train',
    inputs: { 'higher-is-better': 'false', 'training-step-name': 'train', force: 'true' }
  })
})
