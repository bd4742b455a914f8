/** @type {import("jest").Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/examples"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
    // jose 6 (a differential oracle) and oauth4webapi (an RFC 9728 client) ship ES modules only:
    // compiled to CommonJS for the tests
    "/node_modules/(jose|oauth4webapi)/.+\\.js$": [
      "ts-jest",
      { tsconfig: { allowJs: true, module: "commonjs", target: "es2022", isolatedModules: true } },
    ],
  },
  transformIgnorePatterns: ["/node_modules/(?!(jose|oauth4webapi)/)"],
  moduleNameMapper: {
    "^bearer-gate$": "<rootDir>/src/index.ts",
    "^bearer-gate/(express|koa)$": "<rootDir>/adapters/$1.ts",
    "^bearer-gate/testing$": "<rootDir>/testing/index.ts",
    "^bearer-gate/redis$": "<rootDir>/redis/index.ts",
    "^bearer-gate/mcp$": "<rootDir>/mcp/index.ts",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  testTimeout: 20000,
};
