// Validates ASL definitions with asl-validator (npm). Reads a JSON array of
// {"name", "definition"} objects on stdin, prints {"name": [errors…]} for
// the invalid ones. Used by bpmn2asl's Go tests.
const path = require("path");
const root = process.argv[2];
const pkg = path.join(root, "node_modules", "asl-validator");
// asl-validator builds (and compiles) a new Ajv for every definition; hand
// it one shared instance so a corpus of definitions validates in seconds.
const ajvMod = require(require.resolve("ajv", { paths: [pkg] }));
const Ajv = ajvMod.default;
let shared = null;
ajvMod.default = function SharedAjv(opts) {
  if (!shared) {
    shared = new Ajv(opts);
    const addKeyword = shared.addKeyword;
    shared.addKeyword = function (def) {
      try {
        return addKeyword.call(this, def);
      } catch (e) {
        if (/already defined/.test(e.message)) return this;
        throw e;
      }
    };
  }
  shared.errors = null;
  return shared;
};
const validator = require(pkg);
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = {};
  for (const { name, definition } of JSON.parse(input)) {
    const { isValid, errors } = validator(definition, { checkArn: true, checkPaths: true });
    if (!isValid) out[name] = errors.map((e) => e["Error code"] + ": " + e.Message + (e.path ? " at " + e.path : ""));
  }
  process.stdout.write(JSON.stringify(out));
});
