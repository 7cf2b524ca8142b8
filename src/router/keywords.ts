import type { DEFAULT_SPECIALTIES } from "../shared/specialty.js";

type DefaultSpecialty = (typeof DEFAULT_SPECIALTIES)[number];

/**
 * Words in an issue's title or body that vote for a default specialty. Matching is on whole
 * words, case-insensitive; punctuation separates words, so `front-end` is the phrase
 * "front end" and also matches "front end" in text. Plurals are listed where people use
 * them, because "buttons" is not the word "button". A repo's `keywords` config adds to
 * these lists and may name specialties of its own.
 */
export const BUILTIN_KEYWORDS: Readonly<Record<DefaultSpecialty, readonly string[]>> = {
  frontend: [
    "frontend", "front-end", "ui", "ux", "css", "scss", "html", "react", "vue", "svelte", "angular",
    "tailwind", "component", "components", "button", "buttons", "layout", "page", "pages", "style",
    "styles", "styling", "responsive", "modal", "dropdown", "navbar", "sidebar", "browser",
    "accessibility", "a11y", "dark mode", "font", "icon", "icons", "animation",
  ],
  backend: [
    "backend", "back-end", "api", "apis", "endpoint", "endpoints", "database", "db", "server", "sql",
    "query", "queries", "migration", "migrations", "postgres", "postgresql", "mysql", "sqlite",
    "mongodb", "redis", "graphql", "rest", "orm", "schema", "cache", "webhook", "webhooks", "cron",
    "rate limit", "pagination",
  ],
  testing: [
    "testing", "test", "tests", "unit test", "unit tests", "e2e", "end-to-end", "coverage", "flaky",
    "vitest", "jest", "mocha", "pytest", "playwright", "cypress", "assertion", "assertions",
    "fixture", "fixtures", "mock", "mocks", "regression",
  ],
  docs: [
    "docs", "documentation", "document", "readme", "typo", "typos", "guide", "tutorial",
    "changelog", "docstring", "jsdoc", "wiki", "example", "examples", "markdown", "usage",
  ],
  devops: [
    "devops", "ci", "cd", "pipeline", "pipelines", "deploy", "deployment", "deployments", "docker",
    "dockerfile", "container", "containers", "kubernetes", "k8s", "helm", "terraform", "ansible",
    "workflow", "workflows", "github actions", "release", "build", "nginx", "infrastructure",
    "monitoring", "systemd",
  ],
  security: [
    "security", "vulnerability", "vulnerabilities", "cve", "xss", "csrf", "injection",
    "authentication", "authorization", "auth", "password", "passwords", "secret", "secrets",
    "encryption", "tls", "ssl", "exploit", "sanitize", "sanitise", "permissions",
  ],
};
