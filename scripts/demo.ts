/**
 * `npm run demo`: the action end to end on this machine. Starts the workspace emulator with the
 * iris workspace, then runs the built action (dist/index.js, exactly as the runner does) four
 * times: a first registration, a worse model (skipped), a better one found on the training
 * step (a new version), and an SDK v2 pipeline whose training step logged its accuracy as an
 * MLflow metric series, gated with the default metric-source auto and no other input.
 * Prints each run's outputs and job summary, then stops everything.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmulator } from '../emulator/index.js'
import { emulatorInputs, runAction } from './action-runner.js'

const scenarios = [
  { title: 'Run 1: the first model of the pipeline', runId: 'iris-train-001', inputs: {} },
  { title: 'Run 2: a worse model (0.9333 < 0.9667)', runId: 'iris-train-002', inputs: {} },
  {
    title: 'Run 3: a better model, tagged only on its training step',
    runId: 'iris-train-003',
    inputs: { 'training-step-name': 'train_step' }
  },
  {
    title:
      'Run 4: an SDK v2 pipeline: accuracy logged with mlflow.log_metric per epoch on its training step, no tags (metric-source: auto)',
    runId: 'iris-train-v2',
    inputs: { 'metric-source': 'auto' }
  }
]

const dir = mkdtempSync(path.join(tmpdir(), 'gate-demo-'))
const emu = await startEmulator()
let failed = false
try {
  console.log(
    `Workspace emulator: ${emu.url} (workspace ${emu.workspaceName}, Azurite behind it)\n`
  )
  for (const [index, scenario] of scenarios.entries()) {
    const modelPath = path.join(dir, `model-${index + 1}.pkl`)
    writeFileSync(modelPath, `pretend pickle of ${scenario.runId}\n`)
    const run = await runAction(
      emulatorInputs(emu, {
        'run-id': scenario.runId,
        'model-name': 'iris-classifier',
        'model-path': modelPath,
        'artifact-path': 'model.pkl',
        'framework-version': '1.5.2',
        ...scenario.inputs
      }),
      { NODE_EXTRA_CA_CERTS: emu.caCertPath }
    )
    console.log(
      `${'='.repeat(78)}\n${scenario.title}: node dist/index.js (run-id ${scenario.runId})`
    )
    console.log(
      `exit code ${run.exitCode}, ${run.durationMs} ms${run.error ? `, error: ${run.error}` : ''}\n`
    )
    console.log('Outputs:')
    for (const [name, value] of Object.entries(run.outputs)) {
      if (name !== 'result') console.log(`  ${name.padEnd(17)} ${value}`)
    }
    console.log('\nJob summary (GITHUB_STEP_SUMMARY):\n')
    console.log(
      run.summary.replace(
        /<details>[\s\S]*<\/details>\n?/,
        '<details>…decision record…</details>\n'
      )
    )
    failed ||= run.exitCode !== 0
  }
  const versions = emu.state.listModelVersions('iris-classifier')
  console.log(`${'='.repeat(78)}\nRegistry now: iris-classifier has ${versions.length} version(s):`)
  for (const v of versions) {
    console.log(
      `  v${v.version}  accuracy=${v.properties?.accuracy}  model_type=${v.properties?.model_type}  from ${v.jobName}  (${v.tags?.gate_reason})`
    )
  }
} finally {
  await emu.stop()
  rmSync(dir, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
