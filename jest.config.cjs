/** @type {import("jest").Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/examples"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
    // jose 6 (a differential oracle in the tests) ships ES modules only: compiled to CommonJS here
    "/node_modules/jose/.+\\.js$": [
      "ts-jest",
      { tsconfig: { allowJs: true, module: "commonjs", target: "es2022", isolatedModules: true } },
    ],
  },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  moduleNameMapper: {
    "^bearer-gate$": "<rootDir>/src/index.ts",
    "^bearer-gate/(express|koa)$": "<rootDir>/adapters/$1.ts",
    "^bearer-gate/testing$": "<rootDir>/testing/index.ts",
    "^bearer-gate/redis$": "<rootDir>/redis/index.ts",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  testTimeout: 20000,
};
