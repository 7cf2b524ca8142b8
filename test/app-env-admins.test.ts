import { describe, expect, it } from "vitest";
import { readAppEnv } from "../src/config/app-env.js";
import { ConfigError } from "../src/config/env-error.js";

describe("CCC_ADMINS", () => {
  it("is a comma-separated list of GitHub logins, spaces and a leading @ allowed", () => {
    expect(readAppEnv({ CCC_ADMINS: " alice, @Bob-2 ,," }).CCC_ADMINS).toEqual(["alice", "Bob-2"]);
    expect(readAppEnv({}).CCC_ADMINS).toEqual([]);
  });

  it("that is not a list of logins stops the app with a message naming the variable", () => {
    expect(() => readAppEnv({ CCC_ADMINS: "alice;bob" })).toThrow(ConfigError);
    expect(() => readAppEnv({ CCC_ADMINS: "alice;bob" })).toThrow(/CCC_ADMINS.*GitHub logins, comma-separated/);
  });
});
