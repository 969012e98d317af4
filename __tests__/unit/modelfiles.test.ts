import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { listModelFiles } from '../../src/modelfiles.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'modelfiles-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

function folder(files: Record<string, string>): string {
  const root = path.join(dir, 'model')
  for (const [relative, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, relative)), { recursive: true })
    writeFileSync(path.join(root, relative), text)
  }
  return root
}

describe('listModelFiles', () => {
  test('a link back to a folder above it: one short line naming the loop', () => {
    const root = folder({ 'weights/model.pkl': 'w' })
    symlinkSync('..', path.join(root, 'weights', 'again'))
    expect(() => listModelFiles('model-path', root)).toThrow(
      /^Input 'model-path': model folder '.*model' contains a symlink loop: 'weights\/again' leads back to '.*model'; remove the link or point model-path at a folder without it$/
    )
    try {
      listModelFiles('model-path', root)
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(300)
    }
  })

  test('links that point at each other: named as a loop, not as missing', () => {
    const root = folder({ 'model.pkl': 'w' })
    symlinkSync('b', path.join(root, 'a'))
    symlinkSync('a', path.join(root, 'b'))
    expect(() => listModelFiles('model-path', root)).toThrow(
      /^Input 'model-path': '.*model\/a' is a symlink loop/
    )
  })

  test('the same folder linked twice side by side is not a loop', () => {
    const root = folder({ 'shared/model.pkl': 'w' })
    symlinkSync('shared', path.join(root, 'copy'))
    const listed = listModelFiles('model-path', root)
    expect(listed.files.map(f => f.relativePath)).toEqual(['copy/model.pkl', 'shared/model.pkl'])
  })

  test('a dangling link still says it does not exist', () => {
    const root = folder({ 'model.pkl': 'w' })
    symlinkSync('nowhere', path.join(root, 'gone'))
    expect(() => listModelFiles('model-path', root)).toThrow(/'.*gone' does not exist/)
  })
})
