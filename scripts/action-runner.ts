import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Emulator } from '../emulator/index.js'

/**
 * Runs the built action (dist/index.js) the way the GitHub runner does: inputs as INPUT_*
 * variables, outputs and the job summary through the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
 * files. Used by the integration tests, the demo and the benchmark.
 */
export const ACTION_ENTRY = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'dist',
  'index.js'
)

/**
 * The Node.js that runs the action: GATE_NODE when set (CI sets it to Node 24, the runner's
 * `node24`, while the tests themselves run on the machine's Node), else this process's own.
 */
export const ACTION_NODE = process.env.GATE_NODE || process.execPath

/** The seed's service principal that may register models: what the demo, tests and bench use. */
export function dataScientist(emu: Emulator): { clientId: string; clientSecret: string } {
  const client = emu.clients.find(
    c => c.clientSecret && (c.role ?? 'AzureML Data Scientist') === 'AzureML Data Scientist'
  )
  if (!client?.clientSecret) throw new Error('the seed has no service principal with a secret')
  return { clientId: client.clientId, clientSecret: client.clientSecret }
}

/** `azure-credentials` for a client of the emulator's tenant and subscription. */
export function credentialsFor(
  emu: Emulator,
  client: { clientId: string; clientSecret?: string }
): string {
  return JSON.stringify({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    tenantId: emu.tenantId,
    subscriptionId: emu.subscriptionId
  })
}

/** Inputs that point the action at the emulator's workspace, signed in as the data scientist. */
export function emulatorInputs(
  emu: Emulator,
  overrides: Record<string, string | undefined> = {}
): Record<string, string | undefined> {
  return {
    'resource-group': emu.resourceGroup,
    'workspace-name': emu.workspaceName,
    'arm-endpoint': emu.url,
    'authority-host': emu.url,
    'azure-credentials': credentialsFor(emu, dataScientist(emu)),
    ...overrides
  }
}

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** The `::error::` line the step failed with, if any */
  error?: string
  durationMs: number
}

/** Variables of this process that must not leak into the action (they could reach Azure). */
const HOST_VARIABLES = /^(AZURE_|ACTIONS_|GITHUB_|INPUT_|RUNNER_|MSI_|IDENTITY_|IMDS_)/

export async function runAction(
  inputs: Record<string, string | undefined>,
  env: Record<string, string | undefined> = {},
  options: {
    entry?: string
    timeoutMs?: number
    /** Polled while the action runs: when true, the step is killed, as a cancelled job is */
    cancelWhen?: () => boolean
  } = {}
): Promise<ActionRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gate-run-'))
  const outputFile = path.join(dir, 'output')
  const summaryFile = path.join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const childEnv: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !HOST_VARIABLES.test(key) && key !== 'NODE_OPTIONS')
      childEnv[key] = value
  }
  for (const [name, value] of Object.entries(inputs)) {
    // The runner upper-cases the name and replaces spaces, keeping hyphens.
    if (value !== undefined) childEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  Object.assign(childEnv, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir
  })
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key]
    else childEnv[key] = value
  }
  const started = Date.now()
  try {
    const { exitCode, stdout, stderr } = await spawnNode(
      options.entry ?? ACTION_ENTRY,
      childEnv,
      options.timeoutMs ?? 120_000,
      options.cancelWhen
    )
    const error = /^::error::(.*)$/m.exec(stdout)?.[1]
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
      summary: readFileSync(summaryFile, 'utf8'),
      error,
      durationMs: Date.now() - started
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function spawnNode(
  entry: string,
  env: Record<string, string>,
  timeoutMs: number,
  cancelWhen?: () => boolean
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ACTION_NODE, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const poll = cancelWhen && setInterval(() => cancelWhen() && child.kill('SIGKILL'), 25)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      clearInterval(poll)
      resolve({ exitCode: code ?? -1, stdout, stderr })
    })
  })
}

/** GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` blocks (and `name=value` lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1)
      outputs[heredoc[1]] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      outputs[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return outputs
}
