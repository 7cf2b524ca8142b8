// ESLint: typescript-eslint's recommended rules, plus the type-aware ones that catch a promise
// nobody awaits or handles (an unhandled rejection ends a process that must run for weeks).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const nodeGlobals = Object.fromEntries(
  ["process", "console", "URL", "Buffer", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "fetch"].map((name) => [name, "readonly"]),
);
const browserGlobals = Object.fromEntries(
  ["document", "window", "sessionStorage", "fetch", "Node", "URLSearchParams", "setTimeout", "clearTimeout", "setInterval", "console"].map((name) => [
    name,
    "readonly",
  ]),
);

export default tseslint.config(
  { ignores: ["dist/**", "action/dist/**", "node_modules/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ["vitest.config.ts"] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  { files: ["**/*.js", "**/*.mjs", "**/*.cjs"], languageOptions: { globals: nodeGlobals } },
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } } },
  // Served to the browser as is.
  { files: ["src/api/dashboard/**/*.js"], languageOptions: { globals: browserGlobals } },
  // Webhook payloads and fakes of GitHub's JSON are typed loosely on purpose.
  { files: ["test/**/*.ts"], rules: { "@typescript-eslint/no-explicit-any": "off" } },
);
