// Runs the real Azurite blob service as a child process over HTTPS, so artifact uploads are
// exercised against Azure's actual Blob REST semantics (blocks, SAS checks, MD5s).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  SASProtocol,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters
} from '@azure/storage-blob'
import { BlobStore, CONTAINER, DEV_ACCOUNT, DEV_KEY } from './blob.js'

export interface Azurite {
  url: string
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 30_000

export async function startAzurite(opts: {
  dataDir: string
  certPath: string
  keyPath: string
  ca: string
}): Promise<Azurite> {
  const location = join(opts.dataDir, 'azurite')
  mkdirSync(location, { recursive: true })
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js')
  const args = [
    main,
    ['--blobHost', '127.0.0.1'],
    ['--blobPort', '0'],
    ['--location', location],
    ['--cert', opts.certPath],
    ['--key', opts.keyPath],
    // Azurite phones home unless told not to; this emulator must stay on loopback.
    '--disableTelemetry',
    '--silent',
    '--loose',
    '--skipApiVersionCheck'
  ].flat()
  // NODE_OPTIONS from jest/tsx (loaders, vm modules) has no business in Azurite.
  const child = spawn(process.execPath, args, {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const killOnExit = (): void => void child.kill('SIGKILL')
  process.on('exit', killOnExit)
  try {
    const url = await waitForListening(child)
    await createContainer(url, opts.ca)
    return { url, stop: () => stopChild(child).finally(() => process.off('exit', killOnExit)) }
  } catch (err) {
    await stopChild(child)
    process.off('exit', killOnExit)
    throw err
  }
}

/** Azurite prints its address once listening; output is otherwise drained and dropped. */
function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = ''
    let listening = false
    const timer = setTimeout(
      () => fail(new Error('Azurite did not start in time')),
      START_TIMEOUT_MS
    )
    const fail = (err: Error): void => {
      clearTimeout(timer)
      reject(new Error(`${err.message}\n${output.slice(-2000)}`))
    }
    const onData = (chunk: Buffer): void => {
      if (listening) return
      output += chunk.toString('utf8')
      const m = /successfully listens on (https:\/\/[^\s]+)/.exec(output)
      if (m) {
        listening = true
        clearTimeout(timer)
        resolve(m[1].replace(/\/$/, ''))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', code => fail(new Error(`Azurite exited with code ${code}`)))
    child.once('error', fail)
  })
}

async function createContainer(url: string, ca: string): Promise<void> {
  const sas = generateAccountSASQueryParameters(
    {
      services: AccountSASServices.parse('b').toString(),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      permissions: AccountSASPermissions.parse('rwdlac'),
      expiresOn: new Date(Date.now() + 10 * 60_000),
      protocol: SASProtocol.Https
    },
    new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY)
  ).toString()
  const store = new BlobStore(url, url, ca)
  try {
    const res = await store.request(
      'PUT',
      `${url}/${DEV_ACCOUNT}/${CONTAINER}?restype=container&${sas}`
    )
    if (res.status !== 201 && res.status !== 409) {
      throw new Error(`Azurite refused to create container ${CONTAINER}: ${res.status}`)
    }
  } finally {
    store.close()
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
