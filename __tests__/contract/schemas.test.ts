// The contracts themselves: every schema compiles, cites where it came from, accepts what Azure
// was recorded sending and answering, and refuses the shapes that were wrong before.
import { readFileSync } from 'node:fs'
import { schemaNames, validator, violations } from './schemas.js'

const fixtures = JSON.parse(
  readFileSync(new URL('./fixtures/recordings.json', import.meta.url), 'utf8')
) as { fixtures: { source: string; schema: string; body: unknown }[] }

describe('contracts/', () => {
  test.each(schemaNames())('%s compiles and cites its source', name => {
    const schema = validator(name).schema as { $comment?: string; 'x-inferred'?: boolean }
    // A spec path and commit, or an explicit INFERRED marker.
    expect(schema.$comment).toMatch(
      schema['x-inferred']
        ? /^INFERRED/
        : /(azure-rest-api-specs|azure-sdk-for-python|mlflow\/mlflow) \S+ @ [0-9a-f]{40}/
    )
  })

  test.each(fixtures.fixtures.map(f => [f.schema, f.source, f.body] as const))(
    'recorded traffic conforms: %s (%s)',
    (schema, _source, body) => {
      expect(violations(schema, body)).toEqual([])
    }
  )

  test('the artifact batch errors map holds ErrorResponse objects, not flat {code, message}', () => {
    const conflict = 'Resource Conflict: ArtifactId ExperimentRun/dcid.r/model.pkl already exists.'
    const spec = { errors: { 'model.pkl': { error: { code: 'UserError', message: conflict } } } }
    const flat = { errors: { 'model.pkl': { code: 'UserError', message: conflict } } }
    expect(violations('history/artifacts-batch-metadata.response', spec)).toEqual([])
    expect(violations('history/artifacts-batch-metadata.response', flat)).toContain(
      "/errors/model.pkl must have required property 'error'"
    )
  })

  test('a request body with a field the spec does not define is refused', () => {
    const body = {
      properties: { modelUri: 'azureml://jobs/r/outputs/artifacts/paths/m', stage: 'x' }
    }
    expect(violations('arm/model-version.put.request', body)).toEqual([
      "/properties must NOT have additional properties 'stage'"
    ])
  })

  test('more than 50 artifact paths in one call is refused', () => {
    const paths = Array.from({ length: 51 }, (_, i) => ({ path: `m/${i}` }))
    expect(violations('history/artifacts-batch-metadata.request', { paths })).toEqual([
      '/paths must NOT have more than 50 items'
    ])
  })
})
