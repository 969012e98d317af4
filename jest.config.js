// Native ESM jest: ts-jest compiles TypeScript, Node runs the ESM.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }]
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  testTimeout: 60000,
  // Workflow commands that @actions/core writes in-process are captured, not printed.
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup/workflow-commands.ts'],
  // The reliability suites' closing line: faults injected and survived, bad inputs, lost writes.
  globalSetup: '<rootDir>/__tests__/reliability/tally-setup.js',
  globalTeardown: '<rootDir>/__tests__/reliability/tally-teardown.js'
}
