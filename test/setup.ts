// Fail the run on any unhandled rejection or uncaught exception: a middleware that leaks one
// would crash a user's process under Node's default --unhandled-rejections=throw.
const failures: unknown[] = [];
const record = (error: unknown): void => {
  failures.push(error);
};
process.on("unhandledRejection", record);
process.on("uncaughtException", record);

afterEach(() => {
  const seen = failures.splice(0);
  if (seen.length > 0) throw new Error(`unhandled: ${seen.map(String).join("; ")}`);
});

afterAll(() => {
  process.off("unhandledRejection", record);
  process.off("uncaughtException", record);
});
