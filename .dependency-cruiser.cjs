/** Layering rules of src/ (docs/architecture.md, "Layering"), checked in .ci/run and CI. */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "A cycle between modules means the layers are not layers.", from: {}, to: { circular: true } },
    { name: "no-orphans", severity: "warn", from: { orphan: true, pathNot: ["\\.d\\.ts$", "(^|/)tsconfig\\.json$", "^src/api/dashboard/"] }, to: {} },
    {
      name: "shared-is-the-bottom",
      severity: "error",
      comment: "src/shared is used by everything and uses nothing of ours.",
      from: { path: "^src/shared/" },
      to: { path: "^src/(?!shared/)" },
    },
    {
      name: "telemetry-uses-only-shared",
      severity: "error",
      comment: "src/telemetry sits just above src/shared: every layer may trace, so it may use nothing else of ours.",
      from: { path: "^src/telemetry/" },
      to: { path: "^src/(?!shared/|telemetry/)" },
    },
    {
      name: "only-telemetry-loads-the-sdk",
      severity: "error",
      comment: "The OpenTelemetry SDK and exporters are loaded by src/telemetry alone (and only when tracing is on); the rest uses @opentelemetry/api.",
      from: { path: "^(src|action/src)/", pathNot: "^src/telemetry/" },
      to: { path: "node_modules/@opentelemetry/(?!api/)" },
    },
    {
      name: "action-uses-no-app",
      severity: "error",
      comment: "The Action runs on a runner, not in the app.",
      from: { path: "^action/src/" },
      to: { path: "^src/(app|api|reconciler|dispatcher)/" },
    },
    { name: "not-to-test", severity: "error", from: { path: "^(src|action/src)/" }, to: { path: "^test/" } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js", ".mjs"] },
  },
};
