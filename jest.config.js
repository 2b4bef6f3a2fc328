/**
 * Jest runs in ESM mode (`node --experimental-vm-modules`), the only mode that
 * loads Nest 12 (ESM-only) and Nest 11 (CommonJS) alike on Node 20.
 * Tests import the library from its TypeScript source; the consumer smoke
 * test (test/consumer) covers the built, packed package.
 * @type {import('jest').Config}
 */
export default {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.spec.json' }],
  },
  moduleNameMapper: {
    '^nestjs-pty-session$': '<rootDir>/libs/pty-session/src/index.ts',
    '^nestjs-pty-session-client$': '<rootDir>/libs/pty-session-client/src/index.ts',
    '^nestjs-pty-session-client/protocol$': '<rootDir>/libs/pty-session-client/src/protocol.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 30000,
  // Real processes and sockets: keep the two cores for the children.
  maxWorkers: 2,
};
