/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  // middy is ESM-only: let swc turn it into CommonJS for jest (TOOLCHAIN.md).
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  setupFiles: ['<rootDir>/test/support/quiet-logs.js', '<rootDir>/test/support/dynamodb-jvm.js'],
  testTimeout: 60000,
  maxWorkers: 2,
};
