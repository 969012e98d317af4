import {
  buildManifest,
  firstDifference,
  manifestPath,
  parseManifest
} from '../../src/azureml/manifest.js'

const files = [
  { relativePath: 'MLmodel', absolutePath: '/m/MLmodel', size: 10 },
  { relativePath: 'model/weights.bin', absolutePath: '/m/model/weights.bin', size: 20 }
]
const md5s = new Map([
  ['MLmodel', 'aaa='],
  ['model/weights.bin', 'bbb=']
])

describe('the manifest of a folder upload', () => {
  test('lives beside the folder, not in it', () => {
    expect(manifestPath('outputs/model')).toBe('outputs/model.gate-manifest.json')
  })

  test('reads back what was written, and the same files make no difference', () => {
    const manifest = parseManifest(JSON.stringify(buildManifest(files, md5s)))
    expect(manifest?.files['model/weights.bin']).toEqual({ size: 20, md5: 'bbb=' })
    expect(firstDifference(manifest!, files, md5s)).toBeUndefined()
  })

  test('names the first file that differs: bytes, size, a file missing on either side', () => {
    const manifest = buildManifest(files, md5s)
    expect(firstDifference(manifest, files, new Map([...md5s, ['MLmodel', 'zzz=']]))).toBe(
      'MLmodel'
    )
    const bigger = [files[0], { ...files[1], size: 21 }]
    expect(firstDifference(manifest, bigger, md5s)).toBe('model/weights.bin')
    expect(firstDifference(manifest, [files[0]], md5s)).toBe('model/weights.bin')
    const extra = [...files, { relativePath: 'conda.yaml', absolutePath: '/m/c', size: 1 }]
    expect(firstDifference(manifest, extra, md5s)).toBe('conda.yaml')
  })

  test('bytes that are not a manifest are unusable, never trusted', () => {
    expect(parseManifest('')).toBeUndefined()
    expect(parseManifest('{"format":"other","files":{}}')).toBeUndefined()
    expect(parseManifest('{"files":[]}')).toBeUndefined()
    const badEntry = { format: 'azureml-model-gate/folder-manifest@1', files: { a: { size: '1' } } }
    expect(parseManifest(JSON.stringify(badEntry))).toBeUndefined()
  })
})
