// Jest globalSetup: a fresh file where each reliability suite appends its counts (workers
// inherit the environment), summed into one line by tally-teardown.js.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export default function setup() {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'gate-reliability-')), 'tally.jsonl')
  writeFileSync(file, '')
  process.env.GATE_RELIABILITY_TALLY = file
}
