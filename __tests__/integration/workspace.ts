import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { startEmulator, type Emulator } from '../../emulator/index.js'
import {
  dataScientist,
  emulatorInputs,
  runAction,
  type ActionRun
} from '../../scripts/action-runner.js'

/**
 * What the integration suites share: one emulator per test file, the built action run as a
 * child process against it, and small factories for runs and model files.
 */
export class TestWorkspace {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'gate-it-'))
  private counter = 0

  private constructor(readonly emu: Emulator) {}

  static async start(options: Parameters<typeof startEmulator>[0] = {}): Promise<TestWorkspace> {
    return new TestWorkspace(await startEmulator(options))
  }

  async stop(): Promise<void> {
    await this.emu.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** A fresh name, so that tests sharing the emulator never see each other's models or runs. */
  unique(prefix: string): string {
    return `${prefix}-${++this.counter}`
  }

  get secretClient() {
    return dataScientist(this.emu)
  }

  /** Inputs that reach the emulator with the service principal of the seed. */
  inputs(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return emulatorInputs(this.emu, overrides)
  }

  /** Runs dist/index.js like the runner does, trusting the emulator's certificate. */
  gate(
    inputs: Record<string, string | undefined>,
    env: Record<string, string | undefined> = {}
  ): Promise<ActionRun> {
    return runAction(inputs, { NODE_EXTRA_CA_CERTS: this.emu.caCertPath, ...env })
  }

  /** A completed pipeline run with the given parent tags and steps. */
  addRun(options: {
    tags?: Record<string, string>
    children?: { displayName: string; name?: string; tags?: Record<string, string> }[]
    status?: string
    experimentName?: string
  }): string {
    const name = this.unique('run')
    this.emu.state.addJob({
      name,
      displayName: `${name}-pipeline`,
      experimentName: options.experimentName ?? 'iris',
      status: options.status ?? 'Completed',
      jobType: 'Pipeline',
      tags: options.tags ?? {},
      children: (options.children ?? []).map((child, i) => ({
        runId: `${name}_step${i}`,
        name: child.name ?? child.displayName,
        displayName: child.displayName,
        status: 'Completed',
        tags: child.tags ?? {}
      }))
    })
    return name
  }

  /** A model file (or, with several entries, a folder) of the given content. */
  model(content: string | Record<string, string>): string {
    const target = path.join(this.dir, this.unique('model'))
    if (typeof content === 'string') {
      mkdirSync(target)
      writeFileSync(path.join(target, 'model.pkl'), content)
      return path.join(target, 'model.pkl')
    }
    for (const [relative, text] of Object.entries(content)) {
      mkdirSync(path.dirname(path.join(target, relative)), { recursive: true })
      writeFileSync(path.join(target, relative), text)
    }
    return target
  }

  /** Registers a version directly in the emulator's state, as an earlier run would have. */
  seedVersion(
    model: string,
    version: string,
    properties: Record<string, string>,
    extra: { tags?: Record<string, string>; createdAt?: string } = {}
  ): void {
    this.emu.state.addModelVersion(model, {
      version,
      modelUri: `azureml://jobs/seed-${model}-${version}/outputs/artifacts/paths/model.pkl`,
      modelType: 'custom_model',
      jobName: `seed-${model}-${version}`,
      properties,
      tags: extra.tags ?? {},
      ...(extra.createdAt ? { createdAt: extra.createdAt } : {})
    })
  }

  versions(model: string) {
    return this.emu.state.listModelVersions(model)
  }
}

/** The outputs every run sets, even when empty: every output action.yml declares. */
export const OUTPUT_NAMES: string[] = Object.keys(
  parse(readFileSync(fileURLToPath(new URL('../../action.yml', import.meta.url)), 'utf8')).outputs
)
