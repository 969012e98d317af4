/**
 * `npm run try -- --score 0.97 --champion 0.96 --model ./my.pkl [--metric f1]
 * [--lower-is-better] [--step train] [--model-type name] [--<gate input> value]`: the gate on
 * your own numbers. Starts the workspace emulator, adds a completed pipeline run tagged with the
 * score (on its step `--step` when given), registers a champion version with `--champion` when
 * given, runs the built action (dist/index.js) as the runner does, prints its outputs and job
 * summary, and stops everything. Exits with the action's exit code.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { startEmulator } from '../emulator/index.js'
import { ACTION_ENTRY, emulatorInputs, runAction } from './action-runner.js'

const USAGE =
  'usage: npm run try -- --score 0.97 [--champion 0.96] --model ./my.pkl [--metric f1] [--lower-is-better] [--step train] [--<gate input> value]'

/** Inputs that point the action at the emulator: `try` sets them. */
const SET_BY_TRY = new Set([
  'subscription-id',
  'resource-group',
  'workspace-name',
  'run-id',
  'model-path',
  'azure-credentials',
  'client-id',
  'tenant-id',
  'audience',
  'cloud',
  'arm-endpoint',
  'authority-host'
])
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const RUN_ID = 'try-run'

export interface TryOptions {
  score: string
  champion?: string
  model: string
  modelType: string
  step?: string
  /** Gate inputs, metric and higher-is-better included */
  inputs: Record<string, string>
}

class UsageError extends Error {}

/** The command line, checked before anything starts. */
export function parseTryArgs(argv: string[], gateInputs: Set<string>): TryOptions {
  const inputs: Record<string, string> = {}
  const own: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new UsageError(`unexpected '${arg}'`)
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq < 0 ? undefined : eq)
    if (name === 'lower-is-better') {
      if (eq >= 0) throw new UsageError('--lower-is-better takes no value')
      inputs['higher-is-better'] = 'false'
      continue
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i]
    if (value === undefined || (eq < 0 && value.startsWith('--')))
      throw new UsageError(`--${name} needs a value`)
    if (['score', 'champion', 'model', 'model-type', 'step'].includes(name)) own[name] = value
    else if (SET_BY_TRY.has(name))
      throw new UsageError(`--${name} is set by npm run try (the emulator's workspace)`)
    else if (gateInputs.has(name)) inputs[name] = value
    else throw new UsageError(`--${name} is neither a try option nor an input in action.yml`)
  }
  if (own.score === undefined) throw new UsageError('--score is required')
  if (own.model === undefined) throw new UsageError('--model is required (a model file)')
  for (const flag of ['score', 'champion'] as const) {
    if (own[flag] !== undefined && !DECIMAL.test(own[flag]))
      throw new UsageError(`--${flag} '${own[flag]}' is not a decimal number such as 0.97`)
  }
  if (own.step !== undefined) inputs['training-step-name'] ??= own.step
  return {
    score: own.score,
    champion: own.champion,
    model: own.model,
    modelType: own['model-type'] ?? 'candidate',
    step: own.step,
    inputs
  }
}

function gateInputNames(): Set<string> {
  const actionYml = fileURLToPath(new URL('../action.yml', import.meta.url))
  return new Set(Object.keys(parse(readFileSync(actionYml, 'utf8')).inputs))
}

async function main(argv: string[]): Promise<number> {
  let options: TryOptions
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(USAGE)
      return 0
    }
    options = parseTryArgs(argv, gateInputNames())
    // npm runs scripts in the package's folder; a relative --model is relative to the caller's.
    options.model = path.resolve(process.env.INIT_CWD ?? process.cwd(), options.model)
    if (!existsSync(options.model)) throw new UsageError(`--model ${options.model}: no such file`)
    if (!existsSync(ACTION_ENTRY)) throw new UsageError('no dist/index.js: run npm run build')
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`npm run try: ${error.message}. ${USAGE}`)
    return 1
  }
  return tryGate(options)
}

async function tryGate(options: TryOptions): Promise<number> {
  const metric = options.inputs.metric ?? 'accuracy'
  const modelName = options.inputs['model-name'] ?? 'my-model'
  const typeTag = options.inputs['model-type-tag'] ?? 'best_model'
  const tags = { [metric]: options.score, [typeTag]: options.modelType }
  const emu = await startEmulator()
  try {
    emu.state.addJob({
      name: RUN_ID,
      displayName: 'try-pipeline',
      experimentName: 'try',
      status: 'Completed',
      jobType: 'Pipeline',
      tags: options.step ? {} : tags,
      children: options.step
        ? [
            {
              runId: `${RUN_ID}-step`,
              name: options.step,
              displayName: options.step,
              status: 'Completed',
              tags
            }
          ]
        : []
    })
    if (options.champion !== undefined) {
      emu.state.addModelVersion(modelName, {
        version: '1',
        modelUri: 'azureml://jobs/try-champion/outputs/artifacts/paths/model.pkl',
        jobName: 'try-champion',
        properties: { [metric]: options.champion }
      })
    }
    const champion = options.champion === undefined ? 'none' : `v1 (${metric} ${options.champion})`
    console.log(
      `Workspace emulator ${emu.url}: run ${RUN_ID} with ${metric}=${options.score}` +
        `${options.step ? ` on its step ${options.step}` : ''}; champion of ${modelName}: ${champion}\n`
    )
    const run = await runAction(
      emulatorInputs(emu, {
        'model-name': modelName,
        ...options.inputs,
        'run-id': RUN_ID,
        'model-path': options.model
      }),
      { NODE_EXTRA_CA_CERTS: emu.caCertPath }
    )
    printRun(run)
    return run.exitCode
  } finally {
    await emu.stop()
  }
}

function printRun(run: Awaited<ReturnType<typeof runAction>>): void {
  console.log(`node dist/index.js: exit code ${run.exitCode}, ${run.durationMs} ms`)
  if (run.error) console.log(`error: ${run.error}`)
  console.log('\nOutputs:')
  for (const [name, value] of Object.entries(run.outputs)) {
    if (name !== 'result') console.log(`  ${name.padEnd(17)} ${value}`)
  }
  console.log('\nJob summary (GITHUB_STEP_SUMMARY):\n')
  console.log(
    run.summary.replace(/<details>[\s\S]*<\/details>\n?/, '<details>…decision record…</details>\n')
  )
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2))
}
