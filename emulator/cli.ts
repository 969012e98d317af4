// Command line for the emulator: run it in the foreground, inspect a state file, write a seed,
// or steer a running emulator through its admin API. Run with tsx (`npm run emulator`).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startEmulator, type Emulator, type FaultRule } from './index.js'
import { loadSeed, type Seed } from './seed.js'

const USAGE = `Usage:
  tsx emulator/cli.ts start [--seed FILE] [--state FILE] [--port N] [--latency MS]
                            [--fault ROUTE:STATUS[:TIMES]]... [--data-dir DIR] [--direct-blob] [--log]
                            [--model-uri-mode echo|azure] [--top-reading page|cap]
  tsx emulator/cli.ts models NAME --state FILE
  tsx emulator/cli.ts seed --out FILE [--from FILE]
  tsx emulator/cli.ts fault ROUTE STATUS [TIMES] [--url URL] [--ca FILE]   (ROUTE 'clear' removes all)
  tsx emulator/cli.ts latency MS [--url URL] [--ca FILE]
Defaults: --data-dir .emulator (keeps the CA stable across restarts); --url and --ca are read from
the data dir's env file and ca.pem written by 'start'.`

const DEFAULT_DATA_DIR = '.emulator'

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seed: { type: 'string' },
      state: { type: 'string' },
      port: { type: 'string' },
      latency: { type: 'string' },
      fault: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      'direct-blob': { type: 'boolean' },
      'model-uri-mode': { type: 'string' },
      'top-reading': { type: 'string' },
      log: { type: 'boolean' },
      out: { type: 'string' },
      from: { type: 'string' },
      url: { type: 'string' },
      ca: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  const [command, ...args] = positionals
  const dataDir = resolve(values['data-dir'] ?? DEFAULT_DATA_DIR)
  if (values.help || !command) return console.log(USAGE)
  switch (command) {
    case 'start':
      return start(values, dataDir)
    case 'models':
      return models(args[0], values.state)
    case 'seed':
      return seed(values.out, values.from)
    case 'fault':
      return admin(dataDir, values, 'faults', args)
    case 'latency':
      return admin(dataDir, values, 'latency', args)
    default:
      throw new Error(`Unknown command '${command}'.\n${USAGE}`)
  }
}

/** `ROUTE:STATUS[:TIMES]` → a status fault rule. */
function parseFault(spec: string): FaultRule {
  const [route, status, times] = spec.split(':')
  const code = Number(status)
  if (!route || !Number.isInteger(code))
    throw new Error(`--fault wants ROUTE:STATUS[:TIMES], got '${spec}'`)
  return { route, kind: 'status', status: code, times: times ? Number(times) : 1 }
}

type Values = Record<string, string | boolean | string[] | undefined>

async function start(values: Values, dataDir: string): Promise<void> {
  const emu = await startEmulator({
    seed: values.seed as string | undefined,
    statePath: values.state as string | undefined,
    port: values.port ? Number(values.port) : undefined,
    latencyMs: values.latency ? Number(values.latency) : undefined,
    directBlob: values['direct-blob'] === true,
    modelUriMode: values['model-uri-mode'] === 'azure' ? 'azure' : 'echo',
    topReading: values['top-reading'] === 'cap' ? 'cap' : 'page',
    dataDir
  })
  for (const spec of (values.fault as string[] | undefined) ?? []) emu.faults.add(parseFault(spec))
  const env = emu.env()
  const envText =
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  writeFileSync(join(emu.dataDir, 'env'), envText, { mode: 0o600 })
  console.log(`Azure ML workspace emulator is running
  ARM endpoint, Entra authority, GitHub OIDC: ${emu.url}
  Data plane (advertised by the workspace):  ${emu.apiUrl}
  Workspace:  ${emu.workspaceId}
  Azurite:    ${emu.azuriteUrl}
  State file: ${values.state ? resolve(values.state as string) : '(in memory)'}

Environment for clients (also written to ${join(emu.dataDir, 'env')}):
${envText}
Press Ctrl-C to stop.`)
  const timer = values.log ? followLog(emu) : undefined
  await new Promise<void>(done => {
    const stop = (): void => {
      if (timer) clearInterval(timer)
      void emu.stop().then(done)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  console.log('Emulator stopped.')
}

function followLog(emu: Emulator): NodeJS.Timeout {
  let seen = 0
  return setInterval(() => {
    if (emu.requestLog.length < seen) seen = 0
    for (const e of emu.requestLog.slice(seen)) {
      const fault = e.fault ? ` [fault: ${e.fault}]` : ''
      console.log(
        `${new Date(e.at).toISOString()} ${e.status} ${e.method} ${e.route} ${e.path} ${e.durationMs}ms${fault}`
      )
    }
    seen = emu.requestLog.length
  }, 250)
}

function models(name: string | undefined, statePath: string | undefined): void {
  if (!name || !statePath) throw new Error('Usage: models NAME --state FILE')
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as Seed
  const model = state.models?.find(m => m.name === name)
  if (!model) return console.log(`No model '${name}' in ${statePath}`)
  const rows = [['version', 'created', 'jobName', 'properties']]
  for (const v of model.versions) {
    const props = Object.entries(v.properties ?? {})
      .map(([k, val]) => `${k}=${val}`)
      .join(' ')
    rows.push([v.version, v.createdAt ?? '', v.jobName ?? '', props])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd()
    )
}

function seed(out: string | undefined, from: string | undefined): void {
  if (!out) throw new Error('Usage: seed --out FILE [--from FILE]')
  writeFileSync(out, JSON.stringify(loadSeed(from), null, 2) + '\n')
  console.log(`Wrote ${resolve(out)}`)
}

async function admin(
  dataDir: string,
  values: Values,
  what: 'faults' | 'latency',
  args: string[]
): Promise<void> {
  const url = (values.url as string | undefined) ?? readEnvFile(dataDir).AZUREML_ARM_ENDPOINT
  if (!url) throw new Error(`No --url and no ${join(dataDir, 'env')}; is the emulator running?`)
  const caPath = (values.ca as string | undefined) ?? join(dataDir, 'ca.pem')
  const ca = existsSync(caPath) ? readFileSync(caPath, 'utf8') : undefined
  let method = 'PUT'
  let body: unknown = { latencyMs: Number(args[0]) }
  if (what === 'faults') {
    method = args[0] === 'clear' ? 'DELETE' : 'POST'
    body = args[0] === 'clear' ? undefined : parseFault(args.join(':'))
  }
  console.log(await request(`${url}/_emulator/${what}`, method, body, ca))
}

function readEnvFile(dataDir: string): Record<string, string> {
  const file = join(dataDir, 'env')
  if (!existsSync(file)) return {}
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(line => line.includes('='))
      .map(line => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
  )
}

function request(url: string, method: string, body: unknown, ca?: string): Promise<string> {
  return new Promise((resolveText, reject) => {
    const req = https.request(
      url,
      { method, ca, headers: { 'content-type': 'application/json' } },
      res => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString('utf8')))
        res.on('end', () =>
          (res.statusCode ?? 500) < 400
            ? resolveText(text)
            : reject(new Error(`${res.statusCode}: ${text}`))
        )
      }
    )
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

main(process.argv.slice(2)).catch(err => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
