// The dashboard: polls the control API every few seconds and draws what it says. Every value
// from the API goes into the page as text (never as HTML): task titles come from GitHub issues.
const TOKEN_KEY = "ccc-api-token";
const POLL_MS = 3000;
const COLORS = ["#0969da", "#8250df", "#bf3989", "#1a7f37", "#9a6700", "#cf222e"];

const $ = (id) => document.getElementById(id);
let timer;

function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

async function api(path, options = {}) {
  const headers = { accept: "application/json", ...(options.body ? { "content-type": "application/json" } : {}) };
  if (token()) headers.authorization = `Bearer ${token()}`;
  const response = await fetch(`/api/v1${path}`, { ...options, headers });
  if (response.status === 401) throw Object.assign(new Error("unauthorized"), { unauthorized: true });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error?.message ?? `${path}: HTTP ${response.status}`);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

function link(url, text) {
  return typeof url === "string" && /^https?:\/\//.test(url)
    ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text)
    : document.createTextNode(text);
}

function badge(state) {
  return el("span", { class: `state state-${String(state).replace(/[^a-z-]/g, "")}` }, state);
}

// The browser's copy of src/shared/ago.ts (this file is served as is, not bundled): keep the two alike.
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : s < 172800 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}

function usd(n) {
  return `$${Number(n).toFixed(2)}`;
}

function fill(tableId, rows, empty) {
  const body = $(tableId).querySelector("tbody");
  const cols = $(tableId).querySelectorAll("thead th").length;
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: String(cols), class: "muted" }, empty))]));
}

function td(content, cls) {
  return el("td", cls ? { class: cls } : {}, content);
}

function renderQueues({ queues }) {
  const shown = queues.filter((q) => q.waiting + q.active + q.delayed + q.failed > 0 || q.queue === "tasks-general");
  fill(
    "queues",
    shown.map((q) => el("tr", {}, td(q.queue), td(q.waiting, "num"), td(q.active, "num"), td(q.delayed, "num"), td(q.failed, "num"))),
    "No queues.",
  );
}

function renderAgents({ agents }) {
  fill(
    "agents",
    agents.map((a) =>
      el(
        "tr",
        {},
        td(el("span", { title: `${a.host} · ${[...a.specialties, "general"].join(", ")}` }, a.name)),
        td(badge(a.state)),
        td(badge(a.session ?? (a.state === "session-expired" ? "expired" : "ok"))),
        td(a.tasks.length ? a.tasks.join(", ") : "–"),
        td(a.pausedUntil && a.pausedUntil > Date.now() ? new Date(a.pausedUntil).toLocaleString() : "–"),
        td(a.account),
      ),
    ),
    "No live agents. Start one with: ccc agent --name <name> --specialties <a,b>",
  );
}

function renderTasks({ tasks }) {
  fill(
    "tasks",
    tasks.map((t) =>
      el(
        "tr",
        {},
        td(el("span", {}, link(t.issueUrl, t.taskId), trace(t))),
        td(t.title, "title"),
        td(scheduled(t) ? el("span", { title: `starts ${new Date(t.notBefore).toLocaleString()}` }, badge("scheduled")) : badge(t.state)),
        td(t.specialty),
        td(t.agent ?? "–"),
        td(ago(t.queuedAt)),
        td(outcome(t)),
      ),
    ),
    "No tasks yet.",
  );
}

/** Where a pull request's CI and mergeability stand; the words of describePrCi (src/queue/describe-pr-ci.ts). */
function prCiText(ci) {
  const failing = ci.failing.length > 0 ? `: ${ci.failing.slice(0, 5).join(", ")}` : "";
  const of = (n, max) => `attempt ${n}${max !== undefined ? ` of ${max}` : ""}`;
  const checks = {
    pending: "CI running",
    green: "CI green",
    red: `CI red${failing}`,
    fixing: `CI red${failing}; Claude is fixing it, ${of(ci.attempts, ci.maxAttempts)}`,
    "gave-up": `CI red${failing}; Claude gave up`,
  }[ci.state];
  const merge = {
    clean: "merges cleanly",
    conflict: "conflicts with its base",
    resolving: "conflicts with its base; Claude is merging it",
    "gave-up": "conflicts with its base; Claude gave up",
  }[ci.conflict];
  return merge ? `${checks} · ${merge}` : (checks ?? "");
}

/** The latest run's trace: a link where CCC_TRACE_URL gives one, else its id to copy; nothing with tracing off. */
function trace(t) {
  if (!t.traceId) return "";
  const short = el("span", { class: "muted trace", title: `trace ${t.traceId}` }, ` trace ${t.traceId.slice(0, 8)}`);
  return t.traceUrl ? el("span", {}, " ", link(t.traceUrl, `trace ${t.traceId.slice(0, 8)}`)) : short;
}

/** A queued task whose start time has not come (`/claude run at|in`). */
function scheduled(t) {
  return t.state === "queued" && t.notBefore !== undefined && t.notBefore > Date.now();
}

/** The PR, the failure, or, for a live task, what holds it up: the words of its tracking comment. */
function outcome(t) {
  if (t.prUrl)
    return t.prCi
      ? el("span", {}, link(t.prUrl, `#${t.prNumber ?? "PR"}`), " ", el("span", { class: "muted pr-ci" }, prCiText(t.prCi)))
      : link(t.prUrl, `#${t.prNumber ?? "PR"}`);
  const live = t.state === "blocked" || t.state === "queued" || t.state === "waiting" || t.state === "running";
  const dependsOn = t.state === "blocked" && t.dependsOn ? [...t.dependsOn.open, ...t.dependsOn.unreadable].join(", ") : "";
  const why = live ? (dependsOn ? `blocked by ${dependsOn}` : (t.blockedBy ?? t.waitingFor)) : undefined;
  if (why) return el("span", { class: "muted waits", title: why }, `waits: ${why.length > 140 ? `${why.slice(0, 140)}…` : why}`);
  if (scheduled(t)) return el("span", { class: "muted" }, `starts ${new Date(t.notBefore).toLocaleString()}`);
  return t.failure ? el("span", { class: "muted", title: t.failure.message }, t.failure.kind) : "–";
}

function renderUsage(report) {
  const budgets = new Map(report.budgets.map((b) => [b.account, b]));
  fill(
    "usage",
    report.accounts.map(({ account, windows: w }) => {
      const b = budgets.get(account);
      const budget = b
        ? el(
            "span",
            {},
            badge(b.forecast.level),
            ` ${usd(b.forecast.spentUsd)} of ${usd(b.usd)}/${b.window}`,
            b.forecast.reachAt && b.forecast.level !== "critical" ? ` · reached ${new Date(b.forecast.reachAt).toLocaleString()}` : "",
            // What the budget makes the account's agents do now: urgent and high only, or nothing.
            b.gate && b.gate.level !== "ok"
              ? el("span", { class: "gate", title: b.gate.message }, " · ", badge(b.gate.level === "spent" ? "over-budget" : "urgent+high only"))
              : "",
          )
        : "–";
      return el(
        "tr",
        {},
        td(account),
        td(usd(w["1h"].costUsd), "num"),
        td(usd(w["5h"].costUsd), "num"),
        td(usd(w["24h"].costUsd), "num"),
        td(usd(w["7d"].costUsd), "num"),
        td(w["24h"].turns, "num"),
        td(w["24h"].tasks, "num"),
        td(budget),
      );
    }),
    "No Claude runs in the last 7 days.",
  );
  // Tokens resumed sessions saved against their tasks' first attempts (docs/operations.md, Resumed sessions).
  const r = report.resumes;
  $("resumes").hidden = !r || r.resumedRuns === 0;
  if (r && r.resumedRuns > 0) {
    const compared =
      r.compared > 0 ? `saved ${r.savedInputTokens} input and ${r.savedOutputTokens} output tokens against their tasks' first attempts` : "none compared yet";
    $("resumes").textContent = `Resumed sessions, last 7 d: ${r.resumedRuns} ${r.resumedRuns === 1 ? "run" : "runs"}; ${compared}.`;
  }
  const alerts = report.alerts.slice(0, 5);
  $("alerts-section").hidden = alerts.length === 0;
  $("alerts").replaceChildren(...alerts.map((a) => el("li", {}, badge(a.level), ` ${new Date(a.at).toLocaleString()} — ${a.message}`)));
}

function duration(ms) {
  return ms < 7_200_000 ? `${Math.round(ms / 60_000)}m` : `${(ms / 3_600_000).toFixed(1)}h`;
}

/** Merge rate, cost per merged PR and time to merge, per specialty, agent and account, then overall. */
function renderPullRequests(report) {
  const row = (by, name, f) =>
    el(
      "tr",
      {},
      td(by, "muted"),
      td(name),
      td(f.merged, "num"),
      td(f.closed, "num"),
      td(f.mergeRate === null ? "–" : `${Math.round(f.mergeRate * 100)}%`, "num"),
      td(f.costPerMergedUsd === null ? "–" : usd(f.costPerMergedUsd), "num"),
      td(f.timeToMergeP50Ms === null ? "–" : duration(f.timeToMergeP50Ms), "num"),
    );
  const rows = [
    ...report.specialties.map((f) => row("specialty", f.specialty, f)),
    ...report.agents.map((f) => row("agent", f.agent, f)),
    ...report.accounts.map((f) => row("account", f.account, f)),
  ];
  fill("pull-requests", rows.length ? [...rows, row("all", "", report.total)] : [], "No pull request merged or closed yet.");
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Cost per hour per account as lines, drawn as inline SVG: nothing is loaded from elsewhere. */
function renderChart(series) {
  const W = 900,
    H = 180,
    L = 44,
    R = 8,
    T = 10,
    B = 22;
  const n = series.buckets.length;
  const max = Math.max(0.01, ...series.accounts.flatMap((a) => a.costUsd));
  const x = (i) => L + (n <= 1 ? 0 : (i * (W - L - R)) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Claude cost per hour, last 24 hours", preserveAspectRatio: "none" });
  for (const f of [0, 0.5, 1]) {
    chart.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: y(max * f), y2: y(max * f) }));
    chart.append(svg("text", { x: 2, y: y(max * f) + 4 }, usd(max * f)));
  }
  for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 6))) {
    chart.append(svg("text", { x: x(i) - 12, y: H - 4 }, new Date(series.buckets[i]).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
  }
  series.accounts.forEach((a, k) => {
    const points = a.costUsd.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points, fill: "none", stroke: COLORS[k % COLORS.length], "stroke-width": 2 }));
  });
  const legend = el("div", { class: "legend" });
  series.accounts.forEach((a, k) => {
    const swatch = el("span", {}, a.account);
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    swatch.style.setProperty("--swatch", COLORS[k % COLORS.length]);
    legend.append(swatch);
  });
  if (series.accounts.length === 0) legend.append(el("span", { class: "muted" }, "no runs in the last 24 h"));
  $("chart").replaceChildren(chart, legend);
}

function renderMode({ control }) {
  const mode = $("mode");
  mode.dataset.mode = control.mode;
  mode.textContent = control.mode === "running" ? "running" : `${control.mode}${control.by ? ` by ${control.by}` : ""}`;
}

async function refresh() {
  try {
    const [control, queues, agents, tasks, usage, series, pullRequests] = await Promise.all([
      api("/control"),
      api("/queues"),
      api("/agents"),
      api("/tasks?limit=25"),
      api("/usage"),
      api("/usage/series?span=24h"),
      api("/usage/pull-requests"),
    ]);
    renderMode(control);
    renderQueues(queues);
    renderAgents(agents);
    renderTasks(tasks);
    renderUsage(usage);
    renderChart(series);
    renderPullRequests(pullRequests);
    $("error").hidden = true;
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    showMain();
  } catch (error) {
    if (error.unauthorized) return showLogin(token() ? "The token was refused." : "");
    $("error").textContent = `Could not refresh: ${error.message}`;
    $("error").hidden = false;
  }
}

function showMain() {
  $("login").hidden = true;
  $("main").hidden = false;
}

function showLogin(message) {
  clearInterval(timer);
  timer = undefined;
  $("main").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
}

function start() {
  clearInterval(timer);
  void refresh();
  timer = setInterval(refresh, POLL_MS);
}

function confirmAction(title, text) {
  return new Promise((resolve) => {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

async function control(action) {
  try {
    const { control: state } = await api(`/${action}`, { method: "POST", body: JSON.stringify({ by: "dashboard" }) });
    renderMode({ control: state });
    void refresh();
  } catch (error) {
    $("error").textContent = `${action} failed: ${error.message}`;
    $("error").hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("");
  });
  $("pause").addEventListener("click", async () => {
    if (await confirmAction("Pause the cluster?", "Agents finish what they are running and take no new tasks until you resume.")) await control("pause");
  });
  $("resume").addEventListener("click", () => control("resume"));
  $("stop").addEventListener("click", async () => {
    if (
      await confirmAction(
        "Emergency stop?",
        "Every agent aborts its running Claude processes now and puts those tasks back on their queues. Nothing new starts until you resume.",
      )
    )
      await control("stop");
  });
  start();
});
