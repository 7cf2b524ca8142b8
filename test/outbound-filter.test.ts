import { describe, expect, it } from "vitest";
import { inlineText, markdownBlock } from "../src/reporter/markdown.js";
import { githubHost, isOwnUrl, outboundText, type OutboundTarget } from "../src/reporter/outbound.js";
import { SECRET_PATTERNS } from "../src/shared/redact.js";

const TASK: OutboundTarget = { host: "github.com", owner: "octo-org", repo: "hello", issueNumber: 7 };
const CANARY = `ghp_${"C4n4ry".repeat(6)}`;
const ANTHROPIC = `sk-ant-api03-${"k3y".repeat(10)}`;
const ZWSP = "\u200b";

/**
 * What GitHub renders as live markup: top-level fenced blocks, escaped backticks and whole code
 * spans removed (they show literally: nothing in them links, loads or pings).
 */
function live(markdown: string): string {
  return markdown
    .replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ {0,3}\1[ \t]*$/gm, "")
    .replace(/\\`/g, "")
    .replace(/(?<![`\\])(`+)(?!`)[^\n]*?(?<!`)\1(?!`)/g, "");
}

const out = (text: string, target = TASK) => outboundText(text, target);

describe("outbound filter: secrets", () => {
  it.each([
    ["a GitHub token", `use ${CANARY} to push`, CANARY],
    ["an Anthropic key", `key ${ANTHROPIC}`, ANTHROPIC],
    ["an AWS access key id", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"],
    ["a private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----", "MIIEabc"],
    ["a private key cut before its end", "-----BEGIN PRIVATE KEY-----\nMIIEcut", "MIIEcut"],
    ["credentials in a URL", "https://x-access-token:s3cretvalue@github.com/o/r.git", "s3cretvalue"],
    ["a bearer token", "Authorization: Bearer abcdef0123456789abcdef", "abcdef0123456789abcdef"],
  ])("%s is redacted, also inside code", (_, secret, leaked) => {
    for (const text of [secret, "```\n" + secret + "\n```", "`" + secret.replace(/\n/g, " ") + "`"]) {
      const result = out(text);
      expect(result).not.toContain(leaked);
      expect(result).toContain("[redacted]");
    }
  });

  it("the table has each shape the brief names", () => {
    expect(SECRET_PATTERNS.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        "PEM private key",
        "GitHub token",
        "Anthropic API key",
        "AWS access key id",
        "Slack token",
        "authorization value",
        "credentials in a URL",
      ]),
    );
  });

  it("ordinary words next to 'token' are not redacted", () => {
    expect(out("the token verification step and a password: string field")).toBe("the token verification step and a password: string field");
  });
});

describe("outbound filter: images and links", () => {
  it("an image on another host becomes inert text naming it", () => {
    const result = out("Look: ![pixel](https://evil.example/p.png?id=1)");
    expect(result).toBe("Look: image pixel: `https://evil.example/p.png?id=1`");
    expect(live(result)).not.toContain("evil.example");
  });

  it("an HTML <img> is shown as text and its URL is inert", () => {
    const result = out('<img src="https://evil.example/a.png"> and <img src=//evil.example/b.png>');
    expect(live(result)).not.toMatch(/<img/i);
    expect(result).toContain("`https://evil.example/a.png`");
    // Shown as text: `//host` is no link outside a tag, and GitHub autolinks no such thing.
    expect(result).toContain("&lt;img src=//evil.example/b.png>");
  });

  it("a link to another host becomes its text with the URL in a code span", () => {
    expect(out("See [the docs](https://evil.example/docs).")).toBe("See the docs (`https://evil.example/docs`).");
  });

  it("links and images of the task's own repository are kept", () => {
    const text =
      "[a.ts](https://github.com/octo-org/hello/blob/main/a.ts) ![shot](https://github.com/octo-org/hello/assets/1/x.png) [rel](docs/a.md) [this issue](https://github.com/octo-org/hello/issues/7)";
    expect(out(text)).toBe(text);
  });

  it("another repository, or another issue of this one, is not linked", () => {
    const result = out(
      "[x](https://github.com/other/repo/blob/main/a.ts) [y](https://github.com/octo-org/hello/pull/5) [z](https://github.com/octo-org/hello-evil)",
    );
    expect(live(result)).not.toContain("https://");
    expect(result).toContain("`https://github.com/octo-org/hello/pull/5`");
  });

  it("on GHES the configured host is the own host and github.com is foreign", () => {
    const ghes = { ...TASK, host: "ghe.example.com" };
    expect(out("[a](https://ghe.example.com/octo-org/hello/blob/main/a.ts)", ghes)).toBe("[a](https://ghe.example.com/octo-org/hello/blob/main/a.ts)");
    expect(out("[a](https://github.com/octo-org/hello)", ghes)).toBe("a (`https://github.com/octo-org/hello`)");
  });

  it.each([
    ["a bare URL", "see https://evil.example/a_b.", "see `https://evil.example/a_b`."],
    ["a www. address", "see www.evil.example", "see `www.evil.example`"],
    ["an autolink", "<https://evil.example/x>", "`https://evil.example/x`"],
    ["a protocol-relative link", "[x](//evil.example/y)", "x (`//evil.example/y`)"],
    ["a backslash link browsers read as protocol-relative", "[x](/\\evil.example/y)", "x (`/\\evil.example/y`)"],
    ["a look-alike host", "[x](https://github.com.evil.example/octo-org/hello)", "x (`https://github.com.evil.example/octo-org/hello`)"],
    ["a link with a user part", "[x](https://github.com@evil.example/)", "x (`https://[redacted]@evil.example/`)"],
  ])("%s is inert", (_, text, expected) => {
    expect(out(text)).toBe(expected);
  });

  it("an own bare URL stays a link", () => {
    expect(out("CI: https://github.com/octo-org/hello/actions/runs/1")).toBe("CI: https://github.com/octo-org/hello/actions/runs/1");
  });

  it("a reference definition to another host defines nothing, so its references link nowhere", () => {
    const result = out("![logo][b]\n\n[b]: https://evil.example/b.png\n> [c]: //evil.example/c");
    expect(result).not.toMatch(/^[\s>]*\[[bc]\]:/m);
    expect(live(result)).not.toContain("evil.example");
  });

  it("a line that only looks like a definition of an own URL is still filtered after it", () => {
    const result = out(
      "[note]: docs/a.md @octo-org/admins ![i](https://evil.example/p.png)\n[l]: https://github.com/octo-org/hello)![x](https://evil.example/q.png)",
    );
    expect(result).not.toMatch(/@(?!\u200b)/);
    expect(live(result)).not.toContain("evil.example");
    expect(result).toContain("[note]: docs/a.md ");
  });

  it("leftover brackets never join into a link, even with nested brackets GitHub allows", () => {
    const result = out("[a[b]c](//evil.example/x)");
    expect(result).not.toMatch(/(?<!\\)\]\(/);
  });

  it("raw HTML and character references are shown as written", () => {
    const result = out("<details><summary>x</summary></details> &#64;admins &commat;team &lt;ok&gt;");
    expect(live(result)).not.toContain("<details>");
    expect(result).toContain("&amp;commat;team");
    expect(result).toContain("&lt;ok&gt;");
    expect(result).not.toContain("&#64;");
  });
});

describe("outbound filter: mentions and references", () => {
  it("@user and @org/team stop pinging", () => {
    expect(out("cc @octo-org/admins and @alice")).toBe(`cc @${ZWSP}octo-org/admins and @${ZWSP}alice`);
  });

  it.each([
    ["#5 when the task is #7", "fixes #5", `fixes #${ZWSP}5`],
    ["another repository's issue", "see other/repo#3", `see other/repo#${ZWSP}3`],
    ["another issue of this repository, qualified", "octo-org/hello#5", `octo-org/hello#${ZWSP}5`],
    ["GH-5", "GH-5", `GH-${ZWSP}5`],
    ["a commit of another repository", "other/repo@abc1234", `other/repo@${ZWSP}abc1234`],
    ["an escaped reference", "\\#5", `\\#${ZWSP}5`],
  ])("%s is defanged", (_, text, expected) => {
    expect(out(text)).toBe(expected);
  });

  it.each(["Closes #7", "octo-org/hello#7", "Octo-Org/Hello#7", "GH-7"])("the task's own issue stays referenced: %s", (text) => {
    expect(out(text)).toBe(text);
  });
});

describe("outbound filter: code", () => {
  it("a fenced block is left as written, but for secrets", () => {
    const code = ["```ts", "// @admins see #5 and https://evil.example", "const img = '![x](https://evil.example/p.png)';", "<img src=x>", "```"];
    expect(out(code.join("\n"))).toBe(code.join("\n"));
    expect(out([...code.slice(0, 2), `const t = "${CANARY}";`, "```"].join("\n"))).toBe([...code.slice(0, 2), 'const t = "[redacted]";', "```"].join("\n"));
  });

  it("an inline code span is left as written", () => {
    expect(out("run `npm i @types/node` then #5")).toBe(`run \`npm i @types/node\` then #${ZWSP}5`);
  });

  it("an escaped backtick opens no code span, so what follows is filtered", () => {
    const result = out("\\`@bob` and ``x");
    expect(live(result)).not.toContain("@bob");
    expect(live(result)).not.toContain("`");
  });

  it("a fence GitHub may close early (in a list item) does not shelter what follows", () => {
    const result = out(["- item", "  ```", "@team ![x](https://evil.example/p.png)", "```", "@crew https://evil.example/q", "```"].join("\n"));
    // Whichever way GitHub reads the fences: no live mention, and the URLs are inert either way.
    expect(result).not.toMatch(/@(?!\u200b)/);
    expect(result).toContain(`https${ZWSP}://evil.example/p.png`);
    expect(result.replace(/`https:\/\/evil[^`]*`/g, "")).not.toContain("https://evil");
  });

  it("a CRLF fence closes where GitHub closes it", () => {
    const result = out("```\r\ncode\r\n```\r\n@team");
    expect(result).toBe(`\`\`\`\ncode\n\`\`\`\n@${ZWSP}team`);
  });
});

describe("markdownBlock and inlineText apply the filter", () => {
  it("a cut inside a code span leaves its tail filtered, and an open fence is closed", () => {
    const cut = markdownBlock(`\`${"x".repeat(40)} @admins https://evil.example/p\` more`, 60, TASK);
    expect(cut).not.toMatch(/@(?!\u200b)/);
    expect(markdownBlock("```ts\nconst a = 1;", 1_000, TASK)).toBe("```ts\nconst a = 1;\n```");
  });

  it("inline text from the CLI: no secret, no foreign link, no mention, no other issue", () => {
    const line = inlineText(
      `push failed: ${CANARY} see https://evil.example/x for #5, @octo-org/admins; run https://github.com/octo-org/hello/actions/runs/9`,
      1_000,
      TASK,
    );
    expect(line).not.toContain(CANARY);
    expect(line).toContain("`https://evil.example/x`");
    expect(line).toContain(`#${ZWSP}5`);
    expect(line).toContain(`@${ZWSP}octo-org`);
    expect(line).toContain(" https://github.com/octo-org/hello/actions/runs/9");
  });
});

describe("outbound filter: cost", () => {
  it.each([
    ["a long dotted URL", "https://" + "a.".repeat(25_000)],
    ["a long path with slashes", "a/".repeat(25_000) + "#1"],
    ["many brackets", "[x](".repeat(12_000)],
    ["many backtick runs", Array.from({ length: 300 }, (_, i) => "`".repeat(i + 1) + "x").join("")],
  ])("%s of 50 kB is filtered in linear time", (_, text) => {
    const started = performance.now();
    markdownBlock(text, 60_000, TASK);
    inlineText(text, 1_000, TASK);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("a malformed percent escape in a link is foreign, not an exception", () => {
    expect(out("[x](https://github.com/octo-org/%E0%A4%A)")).toBe("x (`https://github.com/octo-org/%E0%A4%A`)");
  });
});

describe("githubHost and isOwnUrl", () => {
  it("reads GHE_HOST, then the Action's GITHUB_SERVER_URL, else github.com", () => {
    expect(githubHost({ GHE_HOST: "GHE.example.com" })).toBe("ghe.example.com");
    expect(githubHost({ GITHUB_SERVER_URL: "https://ghe.corp.example" })).toBe("ghe.corp.example");
    expect(githubHost({})).toBe("github.com");
  });

  it.each([
    ["https://github.com/octo-org/hello", true],
    ["https://github.com/octo-org/hello/issues/7#issuecomment-1", true],
    ["https://github.com/octo-org/hello/issues/8", false],
    ["https://github.com/octo-org/other", false],
    ["https://raw.githubusercontent.com/octo-org/hello/main/a.png", false],
    ["javascript:alert(1)", false],
    ["https://github.com/octo-org/hello/../../evil", false],
  ])("%s: %s", (url, own) => {
    expect(isOwnUrl(url, TASK)).toBe(own);
  });
});
