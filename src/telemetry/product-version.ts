import packageJson from "../../package.json" with { type: "json" };

/** The product's version (package.json): `service.version` and the tracer's version. Bundled into the Action. */
export const PRODUCT_VERSION: string = packageJson.version;
